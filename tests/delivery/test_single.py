"""One message outside the ledger, against a real SMTP server: whatever stops it, the
caller gets one line back, and a message the relay took has no problem at all."""

from __future__ import annotations

from newsletter.config import Secret, Settings
from newsletter.delivery.single import send_one
from newsletter.errors import RenderError
from tests.support.settings import make_settings, relay
from tests.support.smtp import Faults, SmtpServer

READER = "lezer@voorbeeld.nl"
MESSAGE = (
    b"From: nieuwsbrief@example.org\r\nTo: lezer@voorbeeld.nl\r\nSubject: Hallo\r\n\r\nHoi\r\n"
)


def test_a_message_the_relay_takes_has_no_problem(
    settings: Settings, smtp_server: SmtpServer
) -> None:
    handed = send_one(settings, lambda: MESSAGE, READER)
    assert handed.problem is None
    assert handed.reply.startswith("250")
    [(address, _)] = smtp_server.handler.messages
    assert address == READER


def test_a_refusal_is_the_relays_reply(
    settings: Settings, smtp_server: SmtpServer, faults: Faults
) -> None:
    faults.rcpt_replies[READER] = "550 5.1.1 Mailbox unknown"
    handed = send_one(settings, lambda: MESSAGE, READER)
    assert handed.problem is not None
    assert "550" in handed.problem
    assert "Mailbox unknown" in handed.problem


def test_a_message_that_cannot_be_built_is_one_line_and_reaches_nobody(
    settings: Settings, smtp_server: SmtpServer
) -> None:
    def build() -> bytes:
        raise RenderError("invalid recipient address 'nergens'")

    handed = send_one(settings, build, READER)
    assert handed.problem == "invalid recipient address 'nergens'"
    assert smtp_server.handler.messages == []


def test_a_dkim_key_that_cannot_sign_is_the_problem(smtp_server: SmtpServer) -> None:
    settings = make_settings(
        smtp=relay(smtp_server.port),
        dkim={"domain": "example.org", "selector": "nieuwsbrief"},
        dkim_private_key=Secret("geen sleutel"),
    )
    handed = send_one(settings, lambda: MESSAGE, READER)
    assert handed.problem is not None
    assert handed.problem.startswith("the DKIM private key cannot sign")
    assert smtp_server.handler.messages == []
