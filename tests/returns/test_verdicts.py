"""What each kind of verdict does to a reader after a real send through the test relay:
an opt-out unsubscribes as the link does, a report naming several readers keeps a row for
each. (A rejection on our side: test_senders; hard bounces held as suspect: test_suspect.)

The verdicts are built here and handed to ``returns.apply``: what the classifier makes of
real messages has tests of its own."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.db.models import BounceReport, Event, Subscriber
from newsletter.returns.parse import Kind, Verdict
from tests.support.db import add_subscribers
from tests.support.returned import (
    bounce_settings,
    delivery_of,
    events_about,
    hand_in,
    send_next,
    status_of,
)
from tests.support.smtp import SmtpServer


@pytest.fixture
def settings(database_url: str, smtp_server: SmtpServer) -> Settings:
    return bounce_settings(database_url, smtp_server.port)


def test_an_opt_out_unsubscribes_as_the_link_does(database: Database, settings: Settings) -> None:
    add_subscribers(database, 3)
    edition_id = send_next(database, settings, "rust-vinden")
    optout = Verdict(Kind.UNSUBSCRIBE, "optout", "feedback report (opt-out)")
    hand_in(database, settings, edition_id, [("lezer1@voorbeeld.nl", optout)], "optout")

    assert status_of(database, "lezer1@voorbeeld.nl") == "unsubscribed"
    assert events_about(database, "lezer1@voorbeeld.nl")[-1][:2] == ("unsubscribe", "test")
    with database.session() as session:
        source = session.scalar(
            select(Subscriber.unsubscribe_source).where(Subscriber.email == "lezer1@voorbeeld.nl")
        )
    assert source == "test"


def test_a_report_naming_two_readers_keeps_a_row_for_each_and_twice_changes_nothing(
    database: Database, settings: Settings
) -> None:
    add_subscribers(database, 3)
    edition_id = send_next(database, settings, "rust-vinden")
    gone = Verdict(Kind.HARD, "userunknown", "550 5.1.1 user unknown", status="5.1.1")
    full = Verdict(Kind.SOFT, "mailboxfull", "552 5.2.2 mailbox full", status="5.2.2")
    verdicts = [("lezer1@voorbeeld.nl", gone), ("lezer2@voorbeeld.nl", full)]

    first = hand_in(database, settings, edition_id, verdicts, "both")
    again = hand_in(database, settings, edition_id, verdicts, "both")

    assert [(v.result, v.email, v.duplicate) for v in first.verdicts] == [
        ("hard", "lezer1@voorbeeld.nl", False),
        ("soft", "lezer2@voorbeeld.nl", False),
    ]
    assert [(v.result, v.duplicate) for v in again.verdicts] == [("hard", True), ("soft", True)]
    assert status_of(database, "lezer1@voorbeeld.nl") == "bounced"
    assert delivery_of(database, edition_id, "lezer2@voorbeeld.nl").soft_bounce is True
    with database.session() as session:
        rows = session.execute(
            select(BounceReport.part, BounceReport.reason, BounceReport.domain).order_by(
                BounceReport.part
            )
        ).all()
        events = session.scalar(
            select(func.count()).select_from(Event).where(Event.actor == "test")
        )
    assert [tuple(row) for row in rows] == [
        (0, "userunknown", "voorbeeld.nl"),
        (1, "mailboxfull", "voorbeeld.nl"),
    ]
    assert events == 2
