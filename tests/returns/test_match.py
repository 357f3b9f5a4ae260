"""What ties a returned message to a delivery: every edition message has its own signed
return path and carries the signed Message-ID the ledger recorded for its reader (the
forged reports that must match nothing are in ``tests/returns/test_forged_reports.py``,
through every way in); without a token on the envelope, the recipient a delivered
message names that is one of our return paths."""

from __future__ import annotations

from email.message import Message

from newsletter.config import BouncesSection
from newsletter.db.database import Database
from newsletter.delivery.message_ids import message_ids
from newsletter.mail.verp import ReturnPaths
from newsletter.returns.match import pick_recipient
from tests.support.db import add_subscribers
from tests.support.returned import (
    BOUNCES,
    bounce_settings,
    delivery_of,
    send_next,
)
from tests.support.settings import SECRET, SENDER, make_settings
from tests.support.smtp import SmtpServer


def test_every_message_has_its_own_signed_return_path_and_an_unchanged_from(
    database: Database, database_url: str, smtp_server: SmtpServer
) -> None:
    add_subscribers(database, 3)
    edition_id = send_next(database, bounce_settings(database_url, smtp_server.port), "rust")
    paths = ReturnPaths(BOUNCES, SECRET)
    received = smtp_server.handler.received
    assert len(received) == 3
    ids = message_ids(bounce_settings(database_url, smtp_server.port))
    for mail in received:
        (reader,) = mail.recipients
        delivery = delivery_of(database, edition_id, reader)
        assert mail.sender == paths.for_delivery(delivery.id)
        assert mail.message["From"].addresses[0].addr_spec == SENDER
        # The ledger recorded the very Message-ID the message carries, signed for its reader.
        assert mail.message["Message-ID"] == delivery.message_id
        assert ids.read(delivery.message_id) == (edition_id, delivery.subscriber_id)


def _delivered(**headers: str) -> Message:
    message = Message()
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    return message


def test_the_envelope_recipient_is_the_first_of_our_return_paths() -> None:
    """A mailbox copy names where it was delivered: ``Delivered-To`` (every hop adds one),
    ``X-Original-To``, ``To``; the one with our signed return path wins, whatever its place."""
    ours = ReturnPaths(BOUNCES, SECRET).for_delivery(7)
    settings = make_settings(bounces=BouncesSection(address=BOUNCES))
    forwarded = _delivered(Delivered_To="postmaster@elders.example", X_Original_To=ours)
    assert pick_recipient(settings, forwarded) == ours
    plain = _delivered(Delivered_To="postmaster@elders.example", To=SENDER)
    assert pick_recipient(settings, plain) == "postmaster@elders.example"
    without_verp = make_settings()
    assert pick_recipient(without_verp, forwarded) == "postmaster@elders.example"
    assert pick_recipient(settings, _delivered(Subject="nothing")) is None
