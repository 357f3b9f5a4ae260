"""One message outside the ledger: it leaves the way editions do (the relay or the
outbox), DKIM-signed when DKIM is set up, from the event loop or from plain code; whatever
stops it, the caller gets one line back, and a message the relay took has no problem."""

from __future__ import annotations

from pathlib import Path

import dkim

from newsletter.config import Secret, Settings
from newsletter.delivery.attempt import Outcome
from newsletter.delivery.single import SingleMessageSender, send_one
from newsletter.errors import RenderError
from tests.support.fixtures import DkimKey
from tests.support.settings import SENDER, make_settings, relay
from tests.support.smtp import Faults, SmtpServer

READER = "piet@voorbeeld.nl"
MESSAGE = (
    f"From: Gerrit <{SENDER}>\r\nTo: piet@voorbeeld.nl\r\nSubject: Bevestig je aanmelding\r\n"
    "\r\nHallo Piet,\r\n"
).encode()


def test_a_message_goes_to_the_relay_from_the_newsletters_address(
    smtp_server: SmtpServer,
) -> None:
    handed = send_one(make_settings(smtp=relay(smtp_server.port)), lambda: MESSAGE, READER)
    assert handed.problem is None
    assert handed.attempt is not None and handed.attempt.outcome == Outcome.SENT
    assert handed.reply.startswith("250")
    ((mail),) = smtp_server.handler.received
    assert (mail.sender, mail.recipients) == (SENDER, [READER])
    assert mail.data.replace(b"\r\n", b"\n") == MESSAGE.replace(b"\r\n", b"\n")


async def test_from_the_event_loop_a_refusal_is_the_relays_reply_not_an_error() -> None:
    faults = Faults(rcpt_replies={READER: "550 5.1.1 User unknown"})
    with SmtpServer(faults) as server:
        sender = SingleMessageSender(make_settings(smtp=relay(server.port)))
        handed = await sender.send(lambda: MESSAGE, READER)
    assert handed.attempt is not None
    assert (handed.attempt.outcome, handed.attempt.bounced) == (Outcome.FAILED, True)
    assert handed.problem is not None and "550 5.1.1 User unknown" in handed.problem
    assert server.handler.messages == []


def test_with_dkim_the_message_is_signed_and_verifies(tmp_path: Path, dkim_key: DkimKey) -> None:
    settings = make_settings(
        newsletter={"data_dir": str(tmp_path)},
        dkim={"domain": "gerritvanderheide.com", "selector": "nb2026"},
        dkim_private_key=Secret(dkim_key.private_pem),
    )
    handed = send_one(settings, lambda: MESSAGE, READER)
    assert handed.problem is None
    (written,) = (tmp_path / "outbox" / "new").iterdir()
    signed = written.read_bytes().replace(b"\n", b"\r\n")
    assert signed.startswith(b"DKIM-Signature:")
    assert dkim.verify(signed, dnsfunc=dkim_key.dns)


def test_a_message_that_cannot_be_built_is_one_line_and_reaches_nobody(
    settings: Settings, smtp_server: SmtpServer
) -> None:
    def build() -> bytes:
        raise RenderError("invalid recipient address 'nergens'")

    handed = send_one(settings, build, READER)
    assert (handed.attempt, handed.problem) == (None, "invalid recipient address 'nergens'")
    assert smtp_server.handler.messages == []


def test_a_dkim_key_that_cannot_sign_is_the_problem(smtp_server: SmtpServer) -> None:
    settings = make_settings(
        smtp=relay(smtp_server.port),
        dkim={"domain": "example.org", "selector": "nieuwsbrief"},
        dkim_private_key=Secret("geen sleutel"),
    )
    handed = send_one(settings, lambda: MESSAGE, READER)
    assert handed.attempt is None
    assert handed.problem is not None
    assert handed.problem.startswith("the DKIM private key cannot sign")
    assert smtp_server.handler.messages == []
