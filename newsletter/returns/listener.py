"""The ``mailto:`` half of List-Unsubscribe: an SMTP listener that unsubscribes by mail.

Every edition's List-Unsubscribe header offers ``mailto:{from_address}?subject=unsubscribe-TOKEN``
next to the https link; some mail clients only use the mailto variant. The relay that
receives mail for ``from_address`` hands those messages to this listener, which reads the
token from the subject (or, when a client drops the subject, from the body) and unsubscribes
that subscriber (source ``mailto``).

Replies: a message with a genuine or a forged token is accepted (250) either way, so the
listener tells a prober nothing and causes no bounce. A message without any token is
refused (550): it is a person writing, and the bounce tells them this address reads no mail.

It also takes the mail that comes back: for ``[bounces] address`` and its ``+TOKEN``
forms (VERP), and bounces or complaints that reach ``from_address`` (when VERP is off the
relay returns them there). Those go to ``returns.apply``, the same as
``newsletter bounces process``, and are accepted (250): refusing a bounce would only make
the reporting server bounce the bounce.

Mail nested too deep to read safely is refused (554) with one log line, whoever it is
for: the sending server keeps it, and the session goes on.

The listener shares the process's file descriptors with the web app, so it holds at most
``inbound.max_sessions`` clients (the next get a 421 and are hung up on) and hangs up on
a client silent for ``inbound.timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from newsletter.config import Settings
from newsletter.db import subscriptions
from newsletter.db.database import Database
from newsletter.errors import ConfigError, InvalidTokenError, NotAMailError, UnreadableMessageError
from newsletter.mail.tokens import TOKEN_PATTERN, read_token
from newsletter.mail.verp import return_paths
from newsletter.returns.apply import process_message
from newsletter.returns.parse import is_report, parse_bounded

# The logger keeps the name it had before the listener joined ``returns``: logs are read by it.
logger = logging.getLogger("newsletter.inbound.listener")

# Unsubscribe requests are a few kilobytes; nothing legitimate comes near this.
MAX_MESSAGE_BYTES = 256 * 1024
_TOKEN = re.compile(rf"unsubscribe-({TOKEN_PATTERN})")


def find_token(message: EmailMessage) -> str | None:
    """The token after ``unsubscribe-`` in the subject, else in the first text part."""
    match = _TOKEN.search(str(message.get("Subject", "")))
    if match is None:
        body = message.get_body(preferencelist=("plain", "html"))
        if body is not None:
            match = _TOKEN.search(body.get_content())
    return match[1] if match else None


class UnsubscribeByMail:
    """aiosmtpd handler: accepts mail for the list address only and acts on its token."""

    def __init__(self, settings: Settings, database: Database, secret: str) -> None:
        self.settings = settings
        self.address = settings.newsletter.from_address.lower()
        self.return_paths = return_paths(settings.bounces, settings.signing_key)
        self.database = database
        self.secret = secret

    def _is_bounce_address(self, address: str) -> bool:
        return self.return_paths is not None and self.return_paths.is_ours(address)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() != self.address and not self._is_bounce_address(address):
            return "550 5.1.1 Dit adres neemt alleen afmeldingen voor de nieuwsbrief aan"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        try:
            return await self._answer(session, bytes(envelope.original_content), envelope)
        except UnreadableMessageError as exc:
            logger.warning("refused a message from %s: %s", session.peer, exc)
            return "554 5.6.0 Dit bericht is geweigerd: het kan niet gelezen worden"

    async def _answer(self, session: Any, raw: bytes, envelope: Any) -> str:
        returned = [address for address in envelope.rcpt_tos if self._is_bounce_address(address)]
        if returned:
            for address in returned:
                await asyncio.to_thread(self._returned, raw, address)
            return "250 OK"
        if is_report(raw):
            await asyncio.to_thread(self._returned, raw, envelope.rcpt_tos[0])
            return "250 OK"
        message = parse_bounded(raw, policy.default)
        assert isinstance(message, EmailMessage)
        token = find_token(message)
        if token is None:
            return "550 5.7.1 Dit adres leest geen post; afmelden kan via de link in de nieuwsbrief"
        try:
            subscriber_id = read_token(self.secret, "unsubscribe", token)
        except InvalidTokenError:
            logger.warning("mailto unsubscribe with an invalid token from %s", session.peer)
            return "250 OK"
        await asyncio.to_thread(self._unsubscribe, subscriber_id)
        return "250 OK"

    def _returned(self, raw: bytes, recipient: str) -> None:
        try:
            outcome = process_message(
                self.database, self.settings, raw, envelope_recipient=recipient, source="inbound"
            )
        except NotAMailError as exc:
            logger.warning("returned mail for %s is no e-mail: %s", recipient, exc)
            return
        logger.info("returned mail for %s: %s (%s)", recipient, outcome.result, outcome.reason)

    def _unsubscribe(self, subscriber_id: int) -> None:
        with self.database.session() as session:
            subscriptions.unsubscribe_by_link(session, subscriber_id, "mailto")
        logger.info("subscriber %d unsubscribed by mail", subscriber_id)


@dataclass
class _Sessions:
    """The SMTP sessions open now; only the listener's one event-loop thread counts them."""

    limit: int
    open: int = 0


class _Session(SMTP):
    """One client's SMTP session, or, with ``limit`` sessions open already, a 421 and the
    line closed before aiosmtpd starts one. Counted from ``connection_made`` (not when the
    protocol is made: asyncio makes up to 100 at once) to ``connection_lost``."""

    def __init__(self, handler: Any, sessions: _Sessions, **options: Any) -> None:
        super().__init__(handler, **options)
        self._sessions = sessions
        self._counted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._sessions.open >= self._sessions.limit:
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(b"421 4.3.2 Te veel verbindingen; probeer het later opnieuw\r\n")
            transport.close()
            return
        self._sessions.open += 1
        self._counted = True
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._counted:
            self._sessions.open -= 1
            super().connection_lost(error)


class InboundController(Controller):
    """aiosmtpd's threaded controller, also on port 0: ``port`` is the bound one after
    start; its sessions are :class:`_Session`, at most ``max_sessions`` at once."""

    def __init__(self, handler: Any, *, max_sessions: int, **options: Any) -> None:
        super().__init__(handler, **options)
        self._sessions = _Sessions(max_sessions)

    def factory(self) -> SMTP:
        return _Session(self.handler, self._sessions, **self.SMTP_kwargs)

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self._bind()

    async def _bind(self) -> asyncio.AbstractServer:
        server = await super()._create_server()
        assert isinstance(server, asyncio.Server)
        self.port = server.sockets[0].getsockname()[1]
        return server


def build_inbound_controller(settings: Settings, database: Database) -> InboundController:
    """The listener for ``[inbound]``; call ``start()`` and ``stop()`` on it."""
    if not 0 <= settings.inbound.port <= 65535:
        raise ConfigError("inbound.port must be between 0 and 65535")
    handler = UnsubscribeByMail(settings, database, settings.signing_key())
    return InboundController(
        handler,
        hostname=settings.inbound.host,
        port=settings.inbound.port,
        data_size_limit=MAX_MESSAGE_BYTES,
        max_sessions=settings.inbound.max_sessions,
        timeout=settings.inbound.timeout,
    )
