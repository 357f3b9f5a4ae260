"""The mailto: unsubscribe listener, fed by a real SMTP client (aiosmtplib)."""

from __future__ import annotations

import dataclasses
import socket
from email.message import EmailMessage

import aiosmtplib
import pytest

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.db.models import SubscriberStatus
from newsletter.mail.tokens import make_token
from newsletter.returns.listener import InboundController, build_inbound_controller
from tests.support.db import add_subscriber, events_of, subscriber_row
from tests.support.settings import SECRET
from tests.support.settings import SENDER as FROM_ADDRESS

ADDRESS = "joost@example.nl"


def request_mail(subject: str, body: str = "", to: str = FROM_ADDRESS) -> EmailMessage:
    """What a mail client sends for ``mailto:...?subject=...``."""
    message = EmailMessage()
    message["From"] = ADDRESS
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body or "This is an unsubscribe request.")
    return message


async def send(controller: InboundController, message: EmailMessage) -> None:
    await aiosmtplib.send(message, hostname="127.0.0.1", port=controller.port, timeout=10)


async def test_subject_token_unsubscribes(listener: InboundController, database: Database) -> None:
    subscriber_id = add_subscriber(database, ADDRESS)
    token = make_token(SECRET, "unsubscribe", subscriber_id)

    await send(listener, request_mail(f"unsubscribe-{token}"))
    await send(listener, request_mail(f"Re: unsubscribe-{token}"))

    row = subscriber_row(database, subscriber_id)
    assert (row.status, row.unsubscribe_source) == (SubscriberStatus.UNSUBSCRIBED, "mailto")
    assert events_of(database, subscriber_id) == [("unsubscribe", "mailto")]


async def test_token_in_the_body_when_the_subject_was_dropped(
    listener: InboundController, database: Database
) -> None:
    subscriber_id = add_subscriber(database, ADDRESS)
    token = make_token(SECRET, "unsubscribe", subscriber_id)

    await send(listener, request_mail("Afmelden", body=f"Graag afmelden.\nunsubscribe-{token}\n"))

    assert subscriber_row(database, subscriber_id).unsubscribe_source == "mailto"


async def test_forged_token_is_accepted_silently_and_changes_nothing(
    listener: InboundController, database: Database
) -> None:
    subscriber_id = add_subscriber(database, ADDRESS)
    forged = make_token("another-key", "unsubscribe", subscriber_id)
    confirm = make_token(SECRET, "confirm", subscriber_id)

    await send(listener, request_mail(f"unsubscribe-{forged}"))
    await send(listener, request_mail(f"unsubscribe-{confirm}"))

    assert subscriber_row(database, subscriber_id).status == SubscriberStatus.ACTIVE


async def test_mail_without_a_request_or_for_another_address_is_refused(
    listener: InboundController,
) -> None:
    with pytest.raises(aiosmtplib.SMTPDataError) as no_token:
        await send(listener, request_mail("Vraagje over de nieuwsbrief"))
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
        await send(listener, request_mail("unsubscribe-x.y.z", to="iemand@example.org"))

    assert no_token.value.code == 550


def test_a_silent_client_is_hung_up_on(settings: Settings, database: Database) -> None:
    """Issue 20: silent clients were kept for aiosmtpd's default 300 s, so a thousand of
    them used up the process's file descriptors. After ``inbound.timeout`` seconds (30 by
    default, 1 here) the listener hangs up."""
    inbound = dataclasses.replace(settings.inbound, enabled=True, host="127.0.0.1", port=0)
    controller = build_inbound_controller(
        dataclasses.replace(settings, inbound=dataclasses.replace(inbound, timeout=1.0)),
        database,
    )
    controller.start()
    try:
        with socket.create_connection(("127.0.0.1", controller.port), timeout=20) as client:
            assert client.recv(1024).startswith(b"220 ")
            assert client.recv(1024) == b""  # closed by the listener, well before 20 s
    finally:
        controller.stop()
