"""The owner's hold on the next edition, asked for before the slot: the weekly job (with an
injected clock, on SQLite and PostgreSQL) makes that edition held, tells the owner, and
sends it once released; a hold taken back lets the slot's edition go as usual."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

from newsletter.db import owner_hold
from newsletter.db.database import Database
from newsletter.db.models import EditionStatus
from newsletter.delivery import editions
from newsletter.runtime.jobs import make_weekly_edition, send_due_work
from tests.support.db import add_subscribers
from tests.support.settings import OWNER, local

from .test_jobs import READERS, add_posts, edition_rows, job_settings, outbox_messages, sent_count

SLOT = local(2026, 3, 30, 7, 0, 5)  # a Monday, five seconds into the slot


def test_the_owners_hold_holds_the_next_edition_until_released(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox"
    settings = job_settings(database_url, outbox)
    add_subscribers(database, READERS)
    add_posts(database, 2)
    with database.session() as session:
        owner_hold.ask(session, "owner")

    outcome = make_weekly_edition(database, settings, SLOT)

    assert outcome.action == "held"
    (row,) = edition_rows(database)
    assert (row.status, row.hold_reason) == (EditionStatus.HELD, owner_hold.REASON)
    assert send_due_work(database, settings, SLOT + timedelta(hours=1)) == []
    (alert,) = outbox_messages(outbox)  # the owner hears of it; no reader gets anything
    assert OWNER in alert["To"]
    assert alert["Subject"] == "Nieuwsbrief van week 14 wacht op jou"  # not "de controle"
    mail = email.message_from_bytes(alert.as_bytes(), policy=email.policy.default)
    part = mail.get_body(preferencelist=("plain",))
    assert isinstance(part, EmailMessage)
    text = " ".join(part.get_content().split())  # wrapped at 72
    assert "je hield de volgende nieuwsbrief tegen" in text
    assert f"newsletter editions release {row.id}" in text
    with database.session() as session:
        assert not owner_hold.pending(session)  # spent on this edition
        editions.release_edition(session, row.id, actor="owner")

    (summary,) = send_due_work(database, settings, SLOT + timedelta(hours=2))
    assert summary.sent == READERS == sent_count(database, row.id)
    # The hold was for one edition: next week's goes out by itself.
    assert make_weekly_edition(database, settings, SLOT + timedelta(weeks=1)).action == "sent"


def test_a_hold_taken_back_before_the_slot_lets_the_edition_go(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox"
    settings = job_settings(database_url, outbox)
    add_subscribers(database, READERS)
    add_posts(database, 1)
    with database.session() as session:
        assert not owner_hold.withdraw(session, "owner")  # nothing to take back yet
        owner_hold.ask(session, "owner")
    with database.session() as session:
        assert owner_hold.pending(session)
        assert owner_hold.withdraw(session, "owner")

    outcome = make_weekly_edition(database, settings, SLOT)

    assert outcome.action == "sent"
    assert outcome.edition_id is not None
    assert sent_count(database, outcome.edition_id) == READERS
