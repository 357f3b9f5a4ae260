"""A small world for the bounce tests: a real relay that logs envelopes, a sent edition,
the corpus of returned messages filled in for a real delivery, and the CLI.

Kept to this folder on purpose (another developer is reorganising the shared fixtures):
the only shared fixtures used are ``database_url``/``database``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import insert, select

from newsletter.cli import cli
from newsletter.config import (
    BouncesSection,
    DatabaseSection,
    NewsletterSection,
    Secret,
    Settings,
    SmtpSection,
)
from newsletter.content.post import Block, Post
from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.db.models import Delivery, Event, Subscriber, SubscriberStatus, utcnow
from newsletter.delivery import editions
from newsletter.delivery.engine import send_edition
from newsletter.inbound.listener import InboundController
from newsletter.mail.verp import ReturnPaths

CORPUS = Path(__file__).with_name("corpus")
SECRET = "bounce-test-secret"
FROM = "nieuwsbrief@gerritvanderheide.com"
BOUNCES = "bounces@gerritvanderheide.com"
READERS = ("lezer0@voorbeeld.nl", "lezer1@voorbeeld.nl", "lezer2@voorbeeld.nl")


@dataclass(frozen=True)
class Envelope:
    mail_from: str
    recipients: tuple[str, ...]
    data: bytes


@dataclass
class LoggingRelay:
    """aiosmtpd handler: accepts everything and logs each envelope, like a relay's mail log."""

    log: list[Envelope] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.log.append(
                Envelope(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.original_content)
            )
        return "250 2.0.0 OK: queued"

    def recipients(self) -> set[str]:
        with self.lock:
            return {address for entry in self.log for address in entry.recipients}

    def clear(self) -> None:
        with self.lock:
            self.log.clear()


def start_relay() -> tuple[InboundController, LoggingRelay]:
    """The relay on a free port (the listener's controller knows its port after start)."""
    handler = LoggingRelay()
    controller = InboundController(handler, hostname="127.0.0.1", port=0)
    controller.start()
    return controller, handler


def relay_port(controller: InboundController) -> int:
    return int(controller.port)


def make_settings(database_url: str, port: int, *, bounce_address: str = BOUNCES) -> Settings:
    return Settings(
        newsletter=NewsletterSection(
            base_url="https://nieuwsbrief.gerritvanderheide.com",
            from_address=FROM,
            owner_address="gerrit@gerritvanderheide.com",
            list_id="nieuwsbrief.gerritvanderheide.com",
        ),
        database=DatabaseSection(url=database_url),
        smtp=SmtpSection(transport="smtp", host="127.0.0.1", port=port, security="none"),
        bounces=BouncesSection(address=bounce_address),
        secret_key=Secret(SECRET),
    )


def write_config(path: Path, database_url: str, port: int, bounce_address: str = BOUNCES) -> Path:
    path.write_text(
        f"""
[newsletter]
from_address = "{FROM}"
owner_address = "gerrit@gerritvanderheide.com"
base_url = "https://nieuwsbrief.gerritvanderheide.com"
list_id = "nieuwsbrief.gerritvanderheide.com"

[database]
url = "{database_url}"

[smtp]
transport = "smtp"
host = "127.0.0.1"
port = {port}
security = "none"

[bounces]
address = "{bounce_address}"
""",
        encoding="utf-8",
    )
    return path


def run_cli(config: Path, *args: str, input: bytes | None = None) -> Result:
    return CliRunner().invoke(
        cli,
        ["--config", str(config), *args],
        input=input,
        env={"NEWSLETTER_SECRET_KEY": SECRET, "NEWSLETTER_CONFIG": None},
    )


def post(slug: str) -> Post:
    return Post(
        slug=slug,
        title=f"Rust vinden ({slug})",
        source="handmade",
        lead="Rust begint bij één bewuste ademhaling.",
        blocks=(Block("paragraph", "Een drukke week vraagt om kleine pauzes."),),
    )


def add_readers(database: Database, addresses: tuple[str, ...] = READERS) -> None:
    now = utcnow()
    with database.session() as session:
        session.execute(
            insert(Subscriber),
            [{"email": a, "status": SubscriberStatus.ACTIVE, "created_at": now} for a in addresses],
        )


def send_next(database: Database, settings: Settings, slug: str) -> int:
    """Import post ``slug`` and send it as a new edition through the real engine."""
    with database.session() as session:
        post_queue.import_posts(session, [post(slug)])
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


def fill(name: str, *, delivery: Delivery, return_path: str, recipient: str) -> bytes:
    """A corpus message, as it would come back for ``delivery``."""
    forged = ReturnPaths(BOUNCES, "another-installation").for_delivery(delivery.id)
    raw = (CORPUS / name).read_bytes()
    for placeholder, value in (
        ("%%RETURN_PATH%%", return_path),
        ("%%FORGED_RETURN_PATH%%", forged),
        ("%%RECIPIENT%%", recipient),
        ("%%MESSAGE_ID%%", delivery.message_id or ""),
        ("%%FROM%%", FROM),
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


def status_of(database: Database, address: str) -> str:
    with database.session() as session:
        status = session.scalar(select(Subscriber.status).where(Subscriber.email == address))
        assert status is not None
        return status


def events_of(database: Database, address: str) -> list[tuple[str, str, Any]]:
    with database.session() as session:
        rows = session.execute(
            select(Event.kind, Event.actor, Event.detail)
            .join(Subscriber, Subscriber.id == Event.subscriber_id)
            .where(Subscriber.email == address)
            .order_by(Event.id)
        ).all()
        return [(kind, actor, detail) for kind, actor, detail in rows]
