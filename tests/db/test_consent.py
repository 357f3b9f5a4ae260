"""Proof of consent at the database: recorded per way in, erased with the reader, counted
when missing, and given to the readers of an upgraded database from their event log."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from sqlalchemy import select

from newsletter.db import consent
from newsletter.db import subscribers as subscriber_list
from newsletter.db.database import Database
from newsletter.db.models import Subscriber, SubscriberStatus, utcnow
from newsletter.db.subscriber_import import RowProblem, import_csv
from tests.support.db import subscriber_row, upgraded_from

SIGNED_UP = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_the_cli_and_an_import_record_how_a_reader_came(database: Database) -> None:
    problems: list[RowProblem] = []
    with database.session() as session:
        _, added = subscriber_list.add(session, "cli@example.nl")
        csv = io.StringIO("email\nlijst@example.nl\n")
        import_csv(session, csv, report=problems.append, file_name="oud.csv")
    assert problems == []
    assert added.consent.source == "cli" and added.consent.recorded
    with database.session() as session:
        imported = consent.ConsentEvidence.of(subscriber_list.get(session, "lijst@example.nl"))
        assert subscriber_list.reader_counts(session, utcnow()).without_consent_evidence == 1
    assert (imported.source, imported.file, imported.recorded) == ("import", "oud.csv", False)


def test_erasing_a_reader_erases_the_evidence(database: Database) -> None:
    with database.session() as session:
        _, record = subscriber_list.add(session, "weg@example.nl")
        row = session.get(Subscriber, record.id)
        assert row is not None
        row.consent_ip, row.consent_user_agent = "203.0.113.7", "Firefox"
    with database.session() as session:
        subscriber_list.remove(session, "weg@example.nl", forget=True)
    row = subscriber_row(database, record.id)
    assert consent.ConsentEvidence.of(row) == consent.ConsentEvidence(
        None, None, None, None, None, None
    )
    assert (row.email, row.status) == (None, SubscriberStatus.UNSUBSCRIBED)


def test_an_upgrade_gives_earlier_readers_what_their_event_log_proves(database_url: str) -> None:
    database = upgraded_from(database_url, "0008_owner_login", _BEFORE, at=SIGNED_UP)
    try:
        with database.session() as session:
            rows = {
                row.email: (row.consent_source, row.signed_up_at, row.paused_until)
                for row in session.scalars(select(Subscriber))
            }
            missing = subscriber_list.reader_counts(session, utcnow()).without_consent_evidence
    finally:
        database.dispose()
    assert rows == {
        "formulier@example.nl": ("form", SIGNED_UP, None),
        "cli@example.nl": ("cli", SIGNED_UP, None),
        "lijst@example.nl": ("import", None, None),
        "onbekend@example.nl": (None, None, None),
    }
    assert missing == 2  # the imported reader and the one nothing is known of


_BEFORE = [
    "INSERT INTO subscribers (id, email, status, created_at) VALUES "
    "(1, 'formulier@example.nl', 'active', :at), (2, 'cli@example.nl', 'active', :at), "
    "(3, 'lijst@example.nl', 'active', :at), (4, 'onbekend@example.nl', 'active', :at)",
    "INSERT INTO events (occurred_at, kind, actor, subscriber_id) VALUES "
    "(:at, 'signup', 'web', 1), (:at, 'confirm', 'web', 1), (:at, 'subscribe', 'admin', 2), "
    "(:at, 'import', 'import', 3)",
]
