"""One message outside the ledger: it leaves the way editions do (the relay or the
outbox), DKIM-signed when DKIM is set up, from the event loop or from plain code."""

from __future__ import annotations

from pathlib import Path

import dkim

from newsletter.config import Secret
from newsletter.delivery.attempt import Outcome
from newsletter.delivery.single import SingleMessageSender
from tests.support.fixtures import DkimKey
from tests.support.settings import SENDER, make_settings, relay
from tests.support.smtp import Faults, SmtpServer

MESSAGE = (
    f"From: Gerrit <{SENDER}>\r\nTo: piet@voorbeeld.nl\r\nSubject: Bevestig je aanmelding\r\n"
    "\r\nHallo Piet,\r\n"
).encode()


def test_a_message_goes_to_the_relay_from_the_newsletters_address(
    smtp_server: SmtpServer,
) -> None:
    sender = SingleMessageSender(make_settings(smtp=relay(smtp_server.port)))
    attempt = sender.send_blocking(MESSAGE, "piet@voorbeeld.nl")
    assert attempt.outcome == Outcome.SENT
    ((mail),) = smtp_server.handler.received
    assert (mail.sender, mail.recipients) == (SENDER, ["piet@voorbeeld.nl"])
    assert mail.data.replace(b"\r\n", b"\n") == MESSAGE.replace(b"\r\n", b"\n")


async def test_from_the_event_loop_a_refusal_is_an_attempt_not_an_error() -> None:
    faults = Faults(rcpt_replies={"piet@voorbeeld.nl": "550 5.1.1 User unknown"})
    with SmtpServer(faults) as server:
        sender = SingleMessageSender(make_settings(smtp=relay(server.port)))
        attempt = await sender.send(MESSAGE, "piet@voorbeeld.nl")
    assert (attempt.outcome, attempt.bounced) == (Outcome.FAILED, True)
    assert server.handler.messages == []


def test_with_dkim_the_message_is_signed_and_verifies(tmp_path: Path, dkim_key: DkimKey) -> None:
    settings = make_settings(
        newsletter={"data_dir": str(tmp_path)},
        dkim={"domain": "gerritvanderheide.com", "selector": "nb2026"},
        dkim_private_key=Secret(dkim_key.private_pem),
    )
    attempt = SingleMessageSender(settings).send_blocking(MESSAGE, "piet@voorbeeld.nl")
    assert attempt.outcome == Outcome.SENT
    (written,) = (tmp_path / "outbox" / "new").iterdir()
    signed = written.read_bytes().replace(b"\n", b"\r\n")
    assert signed.startswith(b"DKIM-Signature:")
    assert dkim.verify(signed, dnsfunc=dkim_key.dns)
