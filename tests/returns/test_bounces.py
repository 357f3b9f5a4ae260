"""The inbound listener takes returned mail: the corpus delivered by an SMTP client
(aiosmtplib, MAIL FROM:<> as a reporting MTA sends it) to the bounce address and its
+TOKEN forms, and to from_address when no bounce address is set."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import aiosmtplib
import pytest
from sqlalchemy import func, select

from newsletter.config import InboundSection, Settings
from newsletter.db.database import Database
from newsletter.db.models import BounceReport
from newsletter.returns.listener import InboundController, build_inbound_controller
from tests.support.db import add_subscribers
from tests.support.returned import (
    EXPECTED,
    bounce_settings,
    deliver_bounce,
    delivered_to,
    delivery_of,
    events_about,
    fill,
    nested_message,
    returned,
    send_next,
    status_of,
)
from tests.support.settings import SENDER
from tests.support.smtp import SmtpServer

READER = "lezer1@voorbeeld.nl"


@pytest.fixture
def settings(database_url: str, smtp_server: SmtpServer) -> Settings:
    return bounce_settings(database_url, smtp_server.port)


def _reports(database: Database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(BounceReport)) or 0)


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_corpus_through_the_inbound_listener(
    name: str,
    settings: Settings,
    database: Database,
    smtp_server: SmtpServer,
    listener: InboundController,
) -> None:
    result, status = EXPECTED[name]
    add_subscribers(database, 3)
    edition_id = await asyncio.to_thread(send_next, database, settings, "rust-vinden")
    raw = returned(smtp_server, database, edition_id, READER, name)
    for _ in range(2):  # the reporting server retries: the second copy changes nothing
        assert await deliver_bounce(listener.port, raw, delivered_to(raw)) == 250
    assert status_of(database, READER) == status
    events = [e for e in events_about(database, READER) if e[1] == "inbound"]
    assert len(events) == (0 if result == "ignored" else 1)
    assert _reports(database) == 1


async def test_without_a_bounce_address_bounces_come_to_from_and_match_by_message_id(
    database: Database, database_url: str, smtp_server: SmtpServer
) -> None:
    settings = bounce_settings(database_url, smtp_server.port, bounce_address="")
    add_subscribers(database, 3)
    edition_id = await asyncio.to_thread(send_next, database, settings, "rust-vinden")
    assert {mail.sender for mail in smtp_server.handler.received} == {SENDER}

    listening = dataclasses.replace(
        settings, inbound=InboundSection(enabled=True, host="127.0.0.1", port=0)
    )
    listener = build_inbound_controller(listening, database)
    listener.start()
    try:
        delivery = delivery_of(database, edition_id, READER)
        raw = fill(
            "hosting_provider_hard.eml", delivery=delivery, return_path=SENDER, recipient=READER
        )
        assert await deliver_bounce(listener.port, raw, SENDER) == 250
        # A person writing to the list address is still refused, as before.
        with pytest.raises(aiosmtplib.SMTPDataError):
            await deliver_bounce(
                listener.port, b"From: a@b.nl\r\nSubject: hoi\r\n\r\nhoi\r\n", SENDER
            )
    finally:
        listener.stop()
    assert status_of(database, READER) == "bounced"


async def test_an_unreadable_message_is_refused_and_the_session_goes_on(
    settings: Settings,
    database: Database,
    smtp_server: SmtpServer,
    listener: InboundController,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 20: a message nested 3,000 deep got a 500 from aiosmtpd's exception path. To
    the bounce address and to the list address alike it is refused with a 554 and one log
    line, and in the same session the bounce that follows is read."""
    add_subscribers(database, 3)
    edition_id = await asyncio.to_thread(send_next, database, settings, "rust-vinden")
    raw = returned(smtp_server, database, edition_id, READER, "postfix_hard.eml")
    caplog.set_level(logging.INFO)
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=listener.port, timeout=10) as client:
        for recipient in (delivered_to(raw), SENDER):
            await client.mail("")
            await client.rcpt(recipient)
            with pytest.raises(aiosmtplib.SMTPDataError) as refused:
                await client.data(nested_message(3000, recipient))
            assert refused.value.code == 554, refused.value
        await client.mail("")
        await client.rcpt(delivered_to(raw))
        assert (await client.data(raw)).code == 250
    assert status_of(database, READER) == "bounced"
    refusals = [r for r in caplog.records if r.name == "newsletter.inbound.listener"]
    assert [r.levelname for r in refusals if "refused" in r.getMessage()] == ["WARNING"] * 2
