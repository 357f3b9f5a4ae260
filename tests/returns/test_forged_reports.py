"""Issue 20, defect 1: a report that names a reader proves nothing by itself.

The attack as it was seen: a reader reads the Message-ID of their own copy, writes
another reader's subscriber id into it, and sends a DSN (reader 3) and an ARF report
(reader 4) quoting those IDs from an unauthenticated SMTP client, to the bounce address
without a VERP token or to ``from_address``. It must change nothing: both reports are
stored as ignored and tied to nobody, no reader changes status, no event is written, and
the edition is not held. The same files fed to ``bounces process DIR``, or found in the
bounce mailbox (a real dovecot), change nothing either.

A report without a (verified) VERP token is matched only by one of our Message-IDs whose
MAC verifies, together with a recipient (Final-Recipient / Original-Recipient,
Original-Rcpt-To) that is the delivery's reader: a genuine Postfix DSN still drops the
reader; a forged MAC, a genuine Message-ID with another reader or with no recipient, and
the guessable Message-IDs of editions sent before this change match nothing.
"""

from __future__ import annotations

import dataclasses
import imaplib
import json
import ssl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select, update

from newsletter.config import ImapSection, InboundSection, Secret, Settings
from newsletter.db.database import Database
from newsletter.db.models import BounceReport, Delivery, OwnerAlert
from newsletter.returns.limits import hold_reason
from newsletter.returns.listener import build_inbound_controller
from newsletter.returns.mailbox import fetch_mailbox
from tests.support.cli import NewsletterCli
from tests.support.db import add_subscribers
from tests.support.dovecot import PASSWORD, USER, Dovecot
from tests.support.returned import (
    BOUNCES,
    bounce_env,
    bounce_settings,
    deliver_bounce,
    delivery_of,
    events_about,
    send_next,
    status_of,
    written,
)
from tests.support.settings import OWNER, SENDER
from tests.support.smtp import SmtpServer

ATTACKER = "lezer0@voorbeeld.nl"  # subscriber 1
DSN_VICTIM = "lezer2@voorbeeld.nl"  # subscriber 3
ARF_VICTIM = "lezer3@voorbeeld.nl"  # subscriber 4
READERS = 8


@pytest.fixture(params=["bounce address", "from address"])
def target(request: pytest.FixtureRequest) -> str:
    """Where the reports are sent: the bounce address itself (no +TOKEN), or
    ``from_address`` of an installation without a bounce address."""
    return BOUNCES if request.param == "bounce address" else SENDER


@pytest.fixture
def settings(database_url: str, smtp_server: SmtpServer, target: str) -> Settings:
    return bounce_settings(
        database_url, smtp_server.port, bounce_address=BOUNCES if target == BOUNCES else ""
    )


@pytest.fixture
def edition_id(database: Database, settings: Settings) -> int:
    add_subscribers(database, READERS)
    return send_next(database, settings, "rust-vinden")


def cli_env(server: SmtpServer, target: str) -> dict[str, str]:
    return {
        **bounce_env(server.port),
        "NEWSLETTER_BOUNCES__ADDRESS": BOUNCES if target == BOUNCES else "",
    }


def own_message_id(server: SmtpServer, reader: str) -> str:
    """The Message-ID in the copy ``reader`` received: all an attacker needs to see."""
    with server.handler.lock:
        (mail,) = [mail for mail in server.handler.received if reader in mail.recipients]
    return str(mail.message["Message-ID"])


def guessed(own: str, subscriber_id: int) -> str:
    """The attacker's guess: their own Message-ID with another subscriber id in it."""
    edition, _, rest = own.removeprefix("<").partition(".")
    return f"<{edition}.{subscriber_id}.{rest.partition('.')[2]}"


def forgeries(database: Database, server: SmtpServer, edition_id: int, target: str) -> list[bytes]:
    """A Postfix-style DSN for reader 3 and a Yahoo-style ARF report for reader 4, each
    quoting the guessed Message-ID and naming the victim's real address as recipient."""
    own = own_message_id(server, ATTACKER)
    return [
        written(
            name,
            return_path=target,
            recipient=victim,
            message_id=guessed(own, delivery_of(database, edition_id, victim).subscriber_id),
        )
        for name, victim in (("postfix_hard.eml", DSN_VICTIM), ("yahoo_arf.eml", ARF_VICTIM))
    ]


def assert_nothing_changed(database: Database, server: SmtpServer, edition_id: int) -> None:
    for number in range(READERS):
        reader = f"lezer{number}@voorbeeld.nl"
        assert status_of(database, reader) == "active", reader
        assert events_about(database, reader) == [], reader
    with database.session() as session:
        reports = session.execute(select(BounceReport.result, BounceReport.subscriber_id)).all()
        assert sorted(reports) == [("ignored", None), ("ignored", None)]
        assert session.scalars(select(OwnerAlert)).all() == []
        assert hold_reason(session, edition_id + 1) is None
    with server.handler.lock:
        assert not any(OWNER in mail.recipients for mail in server.handler.received)


@contextmanager
def listening(settings: Settings, database: Database) -> Iterator[int]:
    controller = build_inbound_controller(
        dataclasses.replace(
            settings, inbound=InboundSection(enabled=True, host="127.0.0.1", port=0)
        ),
        database,
    )
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


async def test_forged_reports_to_the_inbound_listener_change_nothing(
    database: Database,
    settings: Settings,
    smtp_server: SmtpServer,
    edition_id: int,
    target: str,
) -> None:
    with listening(settings, database) as port:
        for raw in forgeries(database, smtp_server, edition_id, target):
            assert await deliver_bounce(port, raw, target) == 250
        assert_nothing_changed(database, smtp_server, edition_id)

        # The way in works: the reader's own DSN, genuine, drops the reader.
        genuine = delivery_of(database, edition_id, DSN_VICTIM)
        assert genuine.message_id is not None
        raw = written(
            "postfix_hard.eml",
            return_path=target,
            recipient=DSN_VICTIM,
            message_id=genuine.message_id,
        )
        assert await deliver_bounce(port, raw, target) == 250
    assert status_of(database, DSN_VICTIM) == "bounced"


def test_forged_reports_through_bounces_process_change_nothing(
    database: Database,
    database_url: str,
    smtp_server: SmtpServer,
    edition_id: int,
    target: str,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "returned"
    folder.mkdir()
    for number, raw in enumerate(forgeries(database, smtp_server, edition_id, target)):
        (folder / f"{number}.eml").write_bytes(raw)
    cli = NewsletterCli(database_url, tmp_path)
    env = cli_env(smtp_server, target)
    output = cli.ok("bounces", "process", "--json", str(folder), **env)
    answers = [json.loads(line) for line in output.splitlines()]
    assert [(a["result"], a["email"], a["subscriber_id"]) for a in answers] == [
        ("ignored", None, None),
        ("ignored", None, None),
    ]
    assert all("no message of ours" in a["diagnostic"] for a in answers), answers
    assert_nothing_changed(database, smtp_server, edition_id)


def test_forged_reports_in_the_bounce_mailbox_change_nothing(
    database: Database,
    settings: Settings,
    smtp_server: SmtpServer,
    edition_id: int,
    target: str,
    dovecot: Dovecot,
) -> None:
    folder = f"Forged-{uuid.uuid4().hex[:8]}"  # one per test: the server is the module's
    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    client = imaplib.IMAP4_SSL("127.0.0.1", dovecot.port, ssl_context=context, timeout=10)
    client.login(USER, PASSWORD)
    client.create(folder)
    for raw in forgeries(database, smtp_server, edition_id, target):
        client.append(folder, None, None, raw)
    client.logout()
    mailbox = ImapSection(
        host="127.0.0.1",
        port=dovecot.port,
        ca_file=str(dovecot.ca_file),
        user=USER,
        folder=folder,
        processed_folder=f"{folder}-verwerkt",
    )
    fetched = fetch_mailbox(
        database,
        dataclasses.replace(settings, bounces_imap=mailbox, imap_password=Secret(PASSWORD)),
    )
    assert len(fetched) == 2
    assert_nothing_changed(database, smtp_server, edition_id)


def _without(raw: bytes, *prefixes: bytes) -> bytes:
    return b"\n".join(line for line in raw.split(b"\n") if not line.lower().startswith(prefixes))


def _tampered(message_id: str) -> str:
    """One character of the MAC changed, the rest as sent."""
    head, at, domain = message_id.rpartition("@")
    last = head[-1]
    return f"{head[:-1]}{'b' if last == 'a' else 'a'}{at}{domain}"


def test_only_a_verified_message_id_with_its_own_reader_matches(
    database: Database,
    database_url: str,
    smtp_server: SmtpServer,
    edition_id: int,
    target: str,
    tmp_path: Path,
) -> None:
    def real(number: int) -> str:
        message_id = delivery_of(database, edition_id, f"lezer{number}@voorbeeld.nl").message_id
        assert message_id is not None
        return message_id

    def dsn(number: int, *, recipient: int | None = None, message_id: str | None = None) -> bytes:
        return written(
            "postfix_hard.eml",
            return_path=target,
            recipient=f"lezer{number if recipient is None else recipient}@voorbeeld.nl",
            message_id=message_id or real(number),
        )

    def arf(number: int) -> bytes:
        reader = f"lezer{number}@voorbeeld.nl"
        return written(
            "yahoo_arf.eml", return_path=target, recipient=reader, message_id=real(number)
        )

    # An edition sent before this change recorded a guessable Message-ID (a stamp).
    old_style = f"<{edition_id}.7.20261207060000@gerritvanderheide.com>"
    with database.session() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_of(database, edition_id, "lezer6@voorbeeld.nl").id)
            .values(message_id=old_style)
        )
    cases = {
        "genuine-dsn": (dsn(1), "hard", "lezer1@voorbeeld.nl"),
        "forged-mac": (dsn(2, message_id=_tampered(real(2))), "ignored", None),
        "another-reader": (dsn(3, recipient=4), "ignored", None),
        "no-recipient": (
            _without(dsn(5), b"final-recipient:", b"original-recipient:"),
            "ignored",
            None,
        ),
        "genuine-arf": (arf(0), "complaint", "lezer0@voorbeeld.nl"),
        "arf-no-recipient": (_without(arf(7), b"original-rcpt-to:", b"to:"), "ignored", None),
        "old-message-id": (dsn(6, message_id=old_style), "ignored", None),
    }
    folder = tmp_path / "returned"
    folder.mkdir()
    for name, (raw, _, _) in cases.items():
        (folder / name).write_bytes(raw)
    cli = NewsletterCli(database_url, tmp_path)
    output = cli.ok("bounces", "process", "--json", str(folder), **cli_env(smtp_server, target))
    answers = dict(zip(sorted(cases), map(json.loads, output.splitlines()), strict=True))
    for name, (_, result, email) in cases.items():
        assert (answers[name]["result"], answers[name]["email"]) == (result, email), name
    statuses = {f"lezer{n}@voorbeeld.nl": "active" for n in range(READERS)}
    statuses.update({"lezer1@voorbeeld.nl": "bounced", "lezer0@voorbeeld.nl": "complained"})
    for reader, status in statuses.items():
        assert status_of(database, reader) == status, reader
    assert answers["another-reader"]["diagnostic"].startswith(
        "our Message-ID, but the report names another recipient"
    )
    assert answers["no-recipient"]["diagnostic"].startswith(
        "our Message-ID, but the report names no recipient"
    )
