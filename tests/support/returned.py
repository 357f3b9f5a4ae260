"""Mail that comes back after the relay said yes: the corpus of bounces, complaints and
replies in ``tests/support/returned/``, filled in for a real delivery, and what the tests
of the ways in (CLI, listener, mailbox) and of the actions need around it.

The corpus messages are written as Postfix, Exim, qmail, Gmail, Microsoft, a hosting
provider, Yahoo's and Microsoft's feedback loops and mail clients write them, with
placeholders for what only a real send knows: the VERP return path the relay saw, the
reader's address and our Message-ID.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiosmtplib
from sqlalchemy import select

from newsletter.config import BouncesSection, Settings
from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.db.models import Delivery, Event, Subscriber
from newsletter.delivery import editions
from newsletter.delivery.engine import send_edition
from newsletter.mail.verp import ReturnPaths
from newsletter.returns.apply import Processed, settle
from newsletter.returns.parse import Verdict

from .posts import add_post, make_post
from .settings import OWNER, SENDER, make_settings, relay
from .smtp import SmtpServer

CORPUS = Path(__file__).with_name("returned")
BOUNCES = "bounces@gerritvanderheide.com"

# corpus file -> (result, the reader's status afterwards)
EXPECTED = {
    "postfix_hard.eml": ("hard", "bounced"),
    "postfix_delayed.eml": ("ignored", "active"),
    "postfix_mailbox_full.eml": ("soft", "active"),
    "exim_hard.eml": ("hard", "bounced"),
    "gmail_hard.eml": ("hard", "bounced"),
    "microsoft_hard.eml": ("hard", "bounced"),
    "microsoft_mailbox_full.eml": ("soft", "active"),
    "hosting_provider_hard.eml": ("hard", "bounced"),
    "qmail_hard.eml": ("hard", "bounced"),
    "yahoo_arf.eml": ("complaint", "complained"),
    "microsoft_arf.eml": ("complaint", "complained"),
    "out_of_office.eml": ("ignored", "active"),
    "vacation.eml": ("ignored", "active"),
    "forged_token.eml": ("ignored", "active"),
    "unknown_address.eml": ("ignored", "active"),
    "malformed_mime.eml": ("ignored", "active"),
}
# Messages whose return path names no delivery of ours: nobody is known.
STRANGERS = frozenset({"forged_token.eml", "unknown_address.eml"})


def bounce_settings(
    database_url: str,
    port: int,
    *,
    bounce_address: str = BOUNCES,
    suspect_minimum: int = BouncesSection.suspect_minimum,
    **top: Any,
) -> Settings:
    """The test relay on ``port``, the owner's address, VERP with the bounce address.

    Every test reader is at one domain: a test that bounces many of them at once and is
    not about the suspect hold raises ``suspect_minimum`` above their number."""
    return make_settings(
        newsletter={"owner_address": OWNER},
        database={"url": database_url},
        smtp=relay(port),
        bounces=BouncesSection(address=bounce_address, suspect_minimum=suspect_minimum),
        **top,
    )


def bounce_env(port: int = 25) -> dict[str, str]:
    """The same configuration for the CLI (``NewsletterCli``'s environment)."""
    return {
        "NEWSLETTER_BOUNCES__ADDRESS": BOUNCES,
        "NEWSLETTER_NEWSLETTER__FROM_ADDRESS": SENDER,
        "NEWSLETTER_NEWSLETTER__OWNER_ADDRESS": OWNER,
        "NEWSLETTER_SMTP__TRANSPORT": "smtp",
        "NEWSLETTER_SMTP__HOST": "127.0.0.1",
        "NEWSLETTER_SMTP__PORT": str(port),
        "NEWSLETTER_SMTP__SECURITY": "none",
    }


def send_next(database: Database, settings: Settings, slug: str) -> int:
    """Import post ``slug`` and send it as a new edition through the real engine."""
    add_post(database, make_post(slug, f"Rust vinden ({slug})"))
    with database.session() as session:
        row = post_queue.get(session, slug)
        assert row is not None
        edition_id = editions.create_edition(session, row, row.title)
    summary = send_edition(database, settings, edition_id)
    assert summary.status == "sent", summary
    return edition_id


def delivery_of(database: Database, edition_id: int, address: str) -> Delivery:
    with database.session() as session:
        delivery = session.scalar(
            select(Delivery)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Delivery.edition_id == edition_id, Subscriber.email == address)
        )
        assert delivery is not None
        session.expunge(delivery)
        return delivery


def returned(
    server: SmtpServer, database: Database, edition_id: int, reader: str, name: str
) -> bytes:
    """Corpus message ``name`` as it comes back for ``reader``'s copy of the edition, with
    the return path the relay saw in MAIL FROM."""
    delivery, return_path = sent_to(server, database, edition_id, reader)
    return fill(name, delivery=delivery, return_path=return_path, recipient=reader)


def sent_to(
    server: SmtpServer, database: Database, edition_id: int, reader: str
) -> tuple[Delivery, str]:
    """``reader``'s delivery of the edition and the return path the relay saw for it."""
    delivery = delivery_of(database, edition_id, reader)
    assert delivery.message_id is not None
    with server.handler.lock:
        (mail,) = [
            mail
            for mail in server.handler.received
            if reader in mail.recipients and delivery.message_id.encode() in mail.data
        ]
    return delivery, mail.sender


def fill(name: str, *, delivery: Delivery, return_path: str, recipient: str) -> bytes:
    return written(
        name,
        return_path=return_path,
        recipient=recipient,
        message_id=delivery.message_id or "",
        delivery_id=delivery.id,
    )


def written(
    name: str,
    *,
    return_path: str,
    recipient: str,
    message_id: str,
    delivery_id: int = 1,
    others: tuple[str, ...] = (),
) -> bytes:
    """Corpus message ``name`` with whatever its writer chose to put in: a reporting
    server's truth, or an attacker's guesses. ``others`` fill the further recipients of a
    report that names several (``%%RECIPIENT_2%%``, ``%%RECIPIENT_3%%``)."""
    forged = ReturnPaths(BOUNCES, "another-installation").for_delivery(delivery_id)
    raw = (CORPUS / name).read_bytes()
    further = [(f"%%RECIPIENT_{n}%%", other) for n, other in enumerate(others, start=2)]
    for placeholder, value in (
        ("%%RETURN_PATH%%", return_path),
        ("%%FORGED_RETURN_PATH%%", forged),
        ("%%RECIPIENT%%", recipient),
        *further,
        ("%%MESSAGE_ID%%", message_id),
        ("%%FROM%%", SENDER),
        ("%%BOUNCES%%", BOUNCES),
    ):
        raw = raw.replace(placeholder.encode(), value.encode())
    return raw


def delivered_to(raw: bytes) -> str:
    """The envelope recipient a corpus message was written for (its Delivered-To)."""
    for line in raw.splitlines():
        if line.lower().startswith(b"delivered-to:"):
            return line.split(b":", 1)[1].strip().decode()
    raise AssertionError("no Delivered-To in the corpus message")


async def deliver_bounce(port: int, raw: bytes, recipient: str) -> int:
    """What a reporting MTA does: MAIL FROM:<> (the null sender of every bounce), RCPT, DATA."""
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10) as client:
        await client.mail("")
        await client.rcpt(recipient)
        reply = await client.data(raw)
        return reply.code


def status_of(database: Database, address: str) -> str:
    with database.session() as session:
        status = session.scalar(select(Subscriber.status).where(Subscriber.email == address))
        assert status is not None
        return status


def events_about(database: Database, address: str) -> list[tuple[str, str, Any]]:
    """(kind, actor, detail) of every event about the reader with ``address``, oldest first."""
    with database.session() as session:
        rows = session.execute(
            select(Event.kind, Event.actor, Event.detail)
            .join(Subscriber, Subscriber.id == Event.subscriber_id)
            .where(Subscriber.email == address)
            .order_by(Event.id)
        ).all()
        return [(kind, actor, detail) for kind, actor, detail in rows]


def recipients_of(server: SmtpServer) -> set[str]:
    with server.handler.lock:
        return {address for mail in server.handler.received for address in mail.recipients}


def forget_received(server: SmtpServer) -> None:
    with server.handler.lock:
        server.handler.received.clear()


def nested_message(depth: int, recipient: str = BOUNCES) -> bytes:
    """Mail of ``depth`` multiparts, each inside the one before, around one line of text.

    The probe of issue 20 sent 3,000 levels: the email parser recurses once per level and
    raised RecursionError, which stopped every way in at that message.
    """
    head = f"From: <>\r\nTo: {recipient}\r\nSubject: nested\r\nMIME-Version: 1.0\r\n".encode()
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
        for level in range(depth)
    )
    closing = b"".join(b"\r\n--b%d--\r\n" % level for level in reversed(range(depth)))
    return head + opening + b"Content-Type: text/plain\r\n\r\nx" + closing


def oversized_message(size: int, recipient: str = BOUNCES) -> bytes:
    """A plain mail of exactly ``size`` bytes (its body is the letter x)."""
    head = f"From: <>\r\nTo: {recipient}\r\nSubject: big\r\n\r\n".encode()
    return head + b"x" * (size - len(head))


def hand_in(
    database: Database,
    settings: Settings,
    edition_id: int,
    verdicts: list[tuple[str, Verdict]],
    name: str,
) -> Processed:
    """One report carrying ``verdicts``, each tied by its reader's own Message-ID (no
    return path: a report may name several readers only then)."""
    tied = []
    for reader, verdict in verdicts:
        message_id = delivery_of(database, edition_id, reader).message_id
        assert message_id is not None
        tied.append(
            Verdict(
                verdict.kind,
                verdict.reason,
                verdict.diagnostic,
                (reader,),
                (message_id,),
                verdict.status,
                verdict.reply_code,
            )
        )
    return settle(database, settings, tuple(tied), None, name, "test")


def owner_mails(smtp_server: SmtpServer) -> list[str]:
    with smtp_server.handler.lock:
        # one line each: the mail wraps its paragraphs at 72 characters
        return [
            " ".join(m.text().split())
            for m in smtp_server.handler.received
            if OWNER in m.recipients
        ]
