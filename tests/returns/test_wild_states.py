"""For each kind, the database after returned mail of the wild corpus comes back for a
real send (issue 22 point 3): a hard bounce drops the reader, a soft one marks the
delivery, a rejection on our side leaves both alone, a complaint and an opt-out take the
reader out, a notice changes nothing; and a report naming three readers acts only on the
one whose message it returns."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.db.models import BounceReport
from newsletter.returns.apply import process_message
from newsletter.returns.report import edition_returns
from tests.support.db import add_subscribers
from tests.support.returned import (
    bounce_settings,
    delivery_of,
    events_about,
    send_next,
    sent_to,
    status_of,
    written,
)
from tests.support.smtp import SmtpServer

READERS = ("lezer1@voorbeeld.nl", "lezer2@voorbeeld.nl", "lezer3@voorbeeld.nl")


@pytest.fixture
def settings(database_url: str, smtp_server: SmtpServer) -> Settings:
    return bounce_settings(database_url, smtp_server.port)


def _came_back(database: Database, settings: Settings, smtp_server: SmtpServer, name: str) -> int:
    """Send an edition to the three readers, then hand in wild file ``name`` as it comes
    back for the first reader's message; the edition's id."""
    add_subscribers(database, 3, start=1)
    edition_id = send_next(database, settings, "rust-vinden")
    delivery, return_path = sent_to(smtp_server, database, edition_id, READERS[0])
    raw = written(
        f"wild/{name}",
        return_path=return_path,
        recipient=READERS[0],
        message_id=delivery.message_id or "",
        others=READERS[1:],
    )
    process_message(database, settings, raw, source="test")
    return edition_id


@pytest.mark.parametrize(
    ("name", "kind", "status"),
    [
        ("courier-user-unknown.eml", "hard", "bounced"),
        ("courier-mailbox-full.eml", "soft", "active"),
        ("postfix-gmail-dmarc-5.7.26.eml", "sender", "active"),
        ("arf-aol-abuse.eml", "complaint", "complained"),
        ("arf-opt-out.eml", "unsubscribe", "unsubscribed"),
        ("ooo-exchange-de.eml", "ignored", "active"),
        ("postfix-delivered.eml", "ignored", "active"),
    ],
)
def test_each_kind_leaves_the_reader_as_it_should(
    database: Database,
    settings: Settings,
    smtp_server: SmtpServer,
    name: str,
    kind: str,
    status: str,
) -> None:
    edition_id = _came_back(database, settings, smtp_server, name)
    reader = READERS[0]
    assert status_of(database, reader) == status
    with database.session() as session:
        (result,) = session.scalars(select(BounceReport.result)).all()
        returns = edition_returns(session, edition_id)
    assert result == kind
    assert delivery_of(database, edition_id, reader).soft_bounce is (kind == "soft")
    assert returns.sender == (kind == "sender")
    acted = [event for event in events_about(database, reader) if event[1] == "test"]
    assert len(acted) == (0 if kind == "ignored" else 1)


def test_a_report_naming_three_readers_acts_on_the_one_whose_message_it_returns(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    """Each of our messages goes to one reader; a report naming three (an address that
    expanded to several) is about the reader its return path names, the others untouched
    whatever it says of them (here: mailbox full, and blocked on our side)."""
    _came_back(database, settings, smtp_server, "postfix-three-recipients.eml")
    assert [status_of(database, reader) for reader in READERS] == ["bounced", "active", "active"]
    for reader in READERS[1:]:
        assert events_about(database, reader) == []
