"""Fixtures for the web tests: the real ASGI app over HTTP, a real SMTP server, helpers.

Confirmation mails travel for real: the app's production sender delivers them to an
aiosmtpd server on 127.0.0.1 (port 0), which records what arrived.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from newsletter.config import NewsletterSection, Secret, Settings, SmtpSection
from newsletter.content.post import Block, Post, QuestionAnswer
from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.db.models import Edition, Event, Subscriber, SubscriberStatus
from newsletter.db.models import Post as PostRow
from newsletter.inbound.listener import InboundController
from newsletter.web import create_app

SECRET = "web-test-secret-key"
BASE_URL = "http://testserver"
FROM_ADDRESS = "nieuwsbrief@gerritvanderheide.nl"
CLIENT_IP = "203.0.113.7"


def make_settings(
    base_url: str = BASE_URL, secret: str = SECRET, smtp_port: int | None = None
) -> Settings:
    relay = SmtpSection()
    if smtp_port is not None:
        relay = SmtpSection(
            transport="smtp", host="127.0.0.1", port=smtp_port, security="none", timeout=10
        )
    return Settings(
        newsletter=NewsletterSection(
            base_url=base_url,
            from_address=FROM_ADDRESS,
            list_id="nieuwsbrief.gerritvanderheide.nl",
        ),
        smtp=relay,
        secret_key=Secret(secret),
    )


@dataclass
class ReceivedMail:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        assert body is not None
        return str(body.get_content())

    def link(self, path: str) -> str:
        """The first URL in the text part whose path starts with ``path``."""
        match = re.search(rf"https?://\S+?{re.escape(path)}\S+", self.text())
        assert match, f"no {path} link in:\n{self.text()}"
        return match[0]


@dataclass
class RecordingHandler:
    """An aiosmtpd handler that keeps every message it is given."""

    received: list[ReceivedMail] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[InboundController, RecordingHandler]]:
    handler = RecordingHandler()
    controller = InboundController(handler, hostname="127.0.0.1", port=0)
    controller.start()
    yield controller, handler
    controller.stop()


@pytest.fixture
def outbox(smtp_server: tuple[InboundController, RecordingHandler]) -> list[ReceivedMail]:
    return smtp_server[1].received


@pytest.fixture
def smtp_port(smtp_server: tuple[InboundController, RecordingHandler]) -> int:
    return smtp_server[0].port


@pytest.fixture
def settings(smtp_port: int) -> Settings:
    """The app sends its confirmation mails with the production sender to the test server."""
    return make_settings(smtp_port=smtp_port)


def http_client(app: Any, client_ip: str = CLIENT_IP) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(client_ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL)


@pytest.fixture
async def client(settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(create_app(settings, database)) as http:
        yield http


def add_subscriber(
    database: Database,
    address: str,
    status: SubscriberStatus = SubscriberStatus.ACTIVE,
    name: str | None = None,
) -> int:
    with database.session() as session:
        subscriber = Subscriber(email=address, name=name, status=status)
        session.add(subscriber)
        session.flush()
        return subscriber.id


def subscriber_row(database: Database, subscriber_id: int) -> Subscriber:
    with database.session() as session:
        row = session.get(Subscriber, subscriber_id)
        assert row is not None
        return row


def events_of(database: Database, subscriber_id: int) -> list[tuple[str, str]]:
    """(kind, actor) of every event about one subscriber, oldest first."""
    with database.session() as session:
        rows = session.execute(
            select(Event.kind, Event.actor)
            .where(Event.subscriber_id == subscriber_id)
            .order_by(Event.id)
        )
        return [(kind, actor) for kind, actor in rows]


def sample_post(slug: str = "innerlijke-rust", title: str = "Innerlijke rust") -> Post:
    return Post(
        slug=slug,
        title=title,
        source="tests/web",
        category="Jij en Jezelf",
        reading_minutes=4,
        lead="Rust ontstaat niet door harder te werken, maar door te voelen wat je vasthoudt.",
        questions=(QuestionAnswer("Waar voel jij spanning?", "Je lijf weet het eerder."),),
        blocks=(
            Block("paragraph", "In een drukke wereld vergeten we soms waar rust begint."),
            Block("heading", "Wat rust werkelijk is"),
            Block("paragraph", "Een paar keer per dag één diepe ademhaling is al genoeg."),
        ),
    )


def add_edition(database: Database, post: Post, status: str) -> int:
    """Import ``post`` and give it an edition in ``status`` (the delivery engine's rows)."""
    with database.session() as session:
        post_queue.import_posts(session, [post])
        row = session.scalars(select(PostRow).where(PostRow.slug == post.slug)).one()
        now = datetime.now(UTC)
        edition = Edition(
            post_id=row.id,
            status=status,
            subject=post.title,
            created_at=now,
            started_at=now if status in ("sending", "sent") else None,
            finished_at=now if status == "sent" else None,
        )
        session.add(edition)
        session.flush()
        return edition.id
