"""The one mail a page sends after its answer (``web.mailing``), through the test relay:
sent when the relay takes it; a refusal or a bug while building is a log line, never an
exception for the page that already answered."""

from __future__ import annotations

import logging

import pytest

from newsletter.delivery.single import SingleMessageSender
from newsletter.web.mailing import send_after_answer
from tests.support.settings import make_settings, relay
from tests.support.smtp import Faults, SmtpServer

READER = "lezer1@voorbeeld.nl"
MESSAGE = (
    b"From: nieuwsbrief@gerritvanderheide.com\r\nTo: lezer1@voorbeeld.nl\r\n"
    b"Subject: Welkom\r\n\r\nWelkom!\r\n"
)


def _build() -> bytes:
    return MESSAGE


def _broken() -> bytes:
    raise RuntimeError("a template that fails")


async def test_the_mail_reaches_the_relay(caplog: pytest.LogCaptureFixture) -> None:
    with SmtpServer(Faults()) as server:
        sender = SingleMessageSender(make_settings(smtp=relay(server.port)))
        await send_after_answer(sender, "welcome", 7, READER, _build)
        assert server.handler.per_address() == {READER: 1}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_refusal_is_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    faults = Faults(rcpt_replies={READER: "550 5.1.1 User unknown"})
    with SmtpServer(faults) as server:
        sender = SingleMessageSender(make_settings(smtp=relay(server.port)))
        await send_after_answer(sender, "confirm", 7, READER, _build)
        assert server.handler.per_address() == {}
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "confirm mail to subscriber 7 was not accepted: 550 5.1.1" in record.getMessage()


async def test_a_bug_while_building_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    with SmtpServer(Faults()) as server:
        sender = SingleMessageSender(make_settings(smtp=relay(server.port)))
        await send_after_answer(sender, "welcome", 7, READER, _broken)
        assert server.handler.per_address() == {}
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.getMessage() == "could not send the welcome mail to subscriber 7"
    assert record.exc_info is not None
