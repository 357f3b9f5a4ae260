"""Fixtures for the delivery tests: a real SMTP server, settings, a post and subscribers.

The server is aiosmtpd on 127.0.0.1 port 0, in a thread with its own event loop, with a
handler that records every accepted message and can inject faults per recipient address
(a reply for RCPT, a stall, a hang-up in the middle of DATA). Nothing is mocked: the
sender talks real SMTP over a real socket.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import insert

from newsletter.config import NewsletterSection, Secret, Settings, SmtpSection
from newsletter.content.post import Block, Post, QuestionAnswer
from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.db.models import Subscriber, SubscriberStatus, utcnow

SECRET = "delivery-test-secret"
SENDER = "nieuwsbrief@gerritvanderheide.com"


@dataclass
class Faults:
    """What the server does to particular recipients (by address)."""

    rcpt_replies: dict[str, str] = field(default_factory=dict)
    stall_rcpt: set[str] = field(default_factory=set)
    stall_seconds: float = 3.0
    hang_up_in_data: set[str] = field(default_factory=set)
    pipelining: bool = False


class RecordingHandler:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.lock = threading.Lock()
        self.messages: list[tuple[str, bytes]] = []
        self.connections = 0

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        if self.faults.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.faults.stall_rcpt:
            await asyncio.sleep(self.faults.stall_seconds)
        reply = self.faults.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            for address in envelope.rcpt_tos:
                self.messages.append((address, bytes(envelope.original_content or b"")))
        return "250 2.0.0 OK: queued"

    def count(self) -> int:
        with self.lock:
            return len(self.messages)

    def per_address(self) -> Counter[str]:
        with self.lock:
            return Counter(address for address, _ in self.messages)

    def parsed(self) -> dict[str, Message]:
        with self.lock:
            return {address: message_from_bytes(raw) for address, raw in self.messages}


class FaultySMTP(SMTP):
    """aiosmtpd's server, able to hang up halfway through the message text."""

    async def smtp_DATA(self, arg: str) -> None:
        if set(self.envelope.rcpt_tos) & self.event_handler.faults.hang_up_in_data:
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            await self._reader.readline()
            self.transport.close()
            return
        await super().smtp_DATA(arg)


class SmtpServer:
    """A server thread; ``port`` is known once started."""

    protocol: type[FaultySMTP] = FaultySMTP

    def __init__(self, faults: Faults | None = None) -> None:
        self.handler = RecordingHandler(faults or Faults())
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        def factory() -> SMTP:
            self.handler.connections += 1
            return self.protocol(self.handler, hostname="relay.test", ident="test relay")

        server = self._loop.run_until_complete(self._loop.create_server(factory, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        self._loop.run_until_complete(server.wait_closed())
        self._loop.close()

    def start(self) -> SmtpServer:
        self._thread.start()
        self._ready.wait(5)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


@pytest.fixture
def faults() -> Faults:
    return Faults()


@pytest.fixture
def smtp_server(faults: Faults) -> Iterator[SmtpServer]:
    server = SmtpServer(faults).start()
    yield server
    server.stop()


def make_settings(port: int = 0, **smtp: Any) -> Settings:
    section = SmtpSection(
        transport="smtp",
        host="127.0.0.1",
        port=port,
        security="none",
        timeout=5.0,
        connections=4,
    )
    return Settings(
        newsletter=NewsletterSection(
            base_url="https://nieuwsbrief.gerritvanderheide.com",
            from_address=SENDER,
            list_id="nieuwsbrief.gerritvanderheide.com",
        ),
        smtp=replace(section, **smtp),
        secret_key=Secret(SECRET),
    )


@pytest.fixture
def settings(smtp_server: SmtpServer) -> Settings:
    return make_settings(smtp_server.port)


def small_post(slug: str = "rust-vinden") -> Post:
    """A short post in the blog's voice: small messages keep the big sends quick."""
    return Post(
        slug=slug,
        title="Rust vinden in een drukke week",
        source="handmade",
        category="Jij en Jezelf",
        reading_minutes=3,
        lead="Rust begint bij één bewuste ademhaling.",
        questions=(QuestionAnswer("Wanneer adem jij bewust?", "Vaker dan je denkt."),),
        blocks=(
            Block("paragraph", "Een drukke week vraagt om kleine pauzes."),
            Block("heading", "Kleine stappen"),
            Block("paragraph", ".Een regel die met een punt begint, voor de SMTP-dotstuffing."),
        ),
    )


def add_post(database: Database, post: Post | None = None) -> str:
    post = post or small_post()
    with database.session() as session:
        post_queue.import_posts(session, [post])
    return post.slug


def add_subscribers(
    database: Database, count: int, *, status: str = SubscriberStatus.ACTIVE, start: int = 0
) -> list[str]:
    """``count`` subscribers ``lezer{n}@voorbeeld.nl``, inserted in one statement."""
    now = utcnow()
    rows = [
        {
            "email": f"lezer{n}@voorbeeld.nl",
            "name": f"Lezer {n}" if n % 3 else None,
            "status": status,
            "created_at": now,
            "confirmed_at": now,
        }
        for n in range(start, start + count)
    ]
    with database.session() as session:
        session.execute(insert(Subscriber), rows)
    return [row["email"] for row in rows]
