"""Migration 0006: bounce reports written by the versions of one verdict per message keep
what they did, their text as ``diagnostic``, a category read from their codes, their
reader's domain; and a report may now hold one row per recipient."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from newsletter.db.database import alembic_config, make_engine, open_database
from newsletter.db.models import BounceReport

AT = datetime(2026, 11, 2, 7, 5, tzinfo=UTC)

_BEFORE = [
    "INSERT INTO subscribers (id, email, status, created_at) "
    "VALUES (1, 'anna@voorbeeld.nl', 'bounced', :at), (2, 'bert@gmail.com', 'active', :at)",
    "INSERT INTO posts (id, slug, title, source, content_hash, document, skipped, "
    "imported_at, updated_at) VALUES (1, 'rust', 'Rust', 'test', 'x', '{}', false, :at, :at)",
    "INSERT INTO editions (id, post_id, status, subject, recipients, created_at) "
    "VALUES (1, 1, 'sent', 'Rust', 2, :at)",
    "INSERT INTO bounce_reports (received_at, fingerprint, source, result, reason, "
    "subscriber_id, edition_id) VALUES "
    "(:at, 'a', 'cli', 'hard', '550 5.1.1 <address>: user unknown', 1, 1), "
    "(:at, 'b', 'imap', 'soft', '5.0.0 552 5.2.2 mailbox full', 2, 1), "
    "(:at, 'c', 'inbound', 'complaint', 'complaint (fraud) reported by Yahoo', 2, 1), "
    "(:at, 'd', 'cli', 'ignored', 'automatic reply (out of office, vacation)', NULL, NULL)",
]


def test_earlier_reports_get_a_category_their_codes_and_their_domain(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "0005_pending_alerts")
        with engine.begin() as connection:
            for statement in _BEFORE:
                connection.execute(text(statement), {"at": AT})
        command.upgrade(alembic_config(engine), "head")
    finally:
        engine.dispose()
    database = open_database(database_url)
    try:
        with database.session() as session:
            rows = session.scalars(select(BounceReport).order_by(BounceReport.id)).all()
            assert [
                (r.fingerprint, r.part, r.result, r.reason, r.status, r.reply_code, r.domain)
                for r in rows
            ] == [
                ("a", 0, "hard", "userunknown", "5.1.1", 550, "voorbeeld.nl"),
                ("b", 0, "soft", "mailboxfull", "5.2.2", None, "gmail.com"),
                ("c", 0, "complaint", "fraud", None, None, "gmail.com"),
                ("d", 0, "ignored", "autoreply", None, None, None),
            ]
            assert rows[0].diagnostic == "550 5.1.1 <address>: user unknown"
            # A second recipient of report "a" is a row of its own; the same one is refused.
            session.add(_row("a", 1))
            session.flush()
        with pytest.raises(IntegrityError), database.session() as session:
            session.add(_row("a", 1))
            session.flush()
    finally:
        database.dispose()


def _row(fingerprint: str, part: int) -> BounceReport:
    return BounceReport(
        fingerprint=fingerprint,
        part=part,
        source="cli",
        result="suspect",
        reason="userunknown",
        diagnostic="550 5.1.1 user unknown",
        domain="voorbeeld.nl",
    )
