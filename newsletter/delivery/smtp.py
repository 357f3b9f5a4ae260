"""SMTP to the relay: a pool of reused connections, one message transaction at a time each.

aiosmtplib opens each session: TCP, implicit TLS or STARTTLS, EHLO and AUTH, the parts
that are easy to get wrong. The transactions themselves (MAIL, RCPT, DATA, the text)
then run over the same transport with a small protocol of our own, because aiosmtplib
sends every command on its own round trip and normalises line endings and dot-stuffs the
whole ~100 KB message with regular expressions for every copy. Here, when the relay
offers PIPELINING (RFC 2920), MAIL, RCPT and DATA go out in one write and the message is
written as it is (it already has CRLF line endings; a spliced message arrives dot-stuffed,
any other is stuffed with one ``bytes.replace``). After the relay pushed back (see
``attempt.py``), a connection is *careful*: its next transactions are not pipelined, one
command at a time, until the relay accepts one again; pipelined, one refused MAIL would
make RCPT and DATA fail too, three errors where Postfix counts each towards slowing its
replies down and hanging up; after ``PUSHBACKS_PER_CONNECTION`` of them the session
is replaced by a fresh one, still careful.

Connections are reopened after ``messages_per_connection`` messages, and when the relay
closes one. A transaction that fails before the message text was written cannot have
delivered anything, so it is retried once on a fresh connection at no risk of a
duplicate; after that, failures become :class:`Attempt` values (see ``attempt.py``).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections import deque
from dataclasses import dataclass
from typing import cast

import aiosmtplib

from newsletter.config import SmtpSection
from newsletter.delivery.attempt import Attempt, Stage, classify, transient
from newsletter.errors import DeliveryError
from newsletter.mail.compose import DotStuffed, dot_stuff

log = logging.getLogger(__name__)

# Postfix delays every reply by a second once a session has made 10 errors
# (smtpd_soft_error_limit) and hangs up at 20: a session that heard this many pushbacks
# is closed, and the next message opens a fresh one with no errors counted.
PUSHBACKS_PER_CONNECTION = 5


class _ConnectionLost(DeliveryError):
    pass


@dataclass(frozen=True, slots=True)
class Reply:
    code: int
    text: str


class _ReplyReader(asyncio.Protocol):
    """Collects the relay's replies in order, so pipelined commands can await theirs."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self._buffer = bytearray()
        self._replies: deque[Reply] = deque()
        self._lines: list[str] = []
        self._waiter: asyncio.Future[None] | None = None
        self.closed = False
        self.gone = asyncio.Event()  # the transport is closed for good (connection_lost)

    def data_received(self, data: bytes) -> None:
        self._buffer.extend(data)
        while (end := self._buffer.find(b"\n")) >= 0:
            line = bytes(self._buffer[: end + 1]).rstrip(b"\r\n")
            del self._buffer[: end + 1]
            self._lines.append(line[4:].decode("utf-8", "replace"))
            if line[3:4] != b"-":
                try:
                    code = int(line[:3])
                except ValueError:
                    code = 0
                self._replies.append(Reply(code, "\n".join(self._lines)))
                self._lines = []
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.gone.set()
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def read(self, timeout: float) -> Reply:
        while not self._replies:
            if self.closed:
                raise _ConnectionLost
            # A timer on our own future, not asyncio.wait_for: that makes a second future,
            # a partial and a callback for every reply awaited, thousands a second.
            loop = asyncio.get_running_loop()
            self._waiter = waiter = loop.create_future()
            timer = loop.call_later(timeout, _time_out, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
        return self._replies.popleft()

    def write(self, data: bytes) -> None:
        if self.closed or self.transport.is_closing():
            raise _ConnectionLost
        self.transport.write(data)


def _time_out(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


def tls_context(config: SmtpSection) -> ssl.SSLContext | None:
    """The client TLS context: certificate and host name always verified, against
    ``smtp.ca_file`` when set (a private CA), else the system trust store."""
    if config.security == "none":
        return None
    try:
        return ssl.create_default_context(cafile=config.ca_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise DeliveryError(f"cannot load smtp.ca_file {config.ca_file!r}: {exc}") from None


class SmtpConnection:
    """One reusable session with the relay."""

    def __init__(
        self,
        config: SmtpSection,
        password: str | None,
        local_hostname: str,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._config = config
        self._password = password
        self._local_hostname = local_hostname
        self._tls = tls
        self._reader: _ReplyReader | None = None
        self._client: aiosmtplib.SMTP | None = None
        self._pipelining = False
        self._careful = False  # the relay pushed back: one command at a time
        self._pushbacks_on_connection = 0
        self._sent_on_connection = 0
        self._text_written = False

    async def deliver(self, sender: str, recipient: str, message: bytes) -> Attempt:
        """Send one message; never raises for anything the relay or the network does."""
        data = message if isinstance(message, DotStuffed) else dot_stuff(message)
        reused = self._reader is not None and self._sent_on_connection > 0
        attempt = await self._try(sender, recipient, data)
        if attempt is None and not self._text_written and reused:
            # The relay closed a connection we had used before (idle or per-connection cap):
            # nothing was delivered, so one retry on a new connection is safe.
            attempt = await self._try(sender, recipient, data)
        if attempt is None:
            reason = (
                "connection lost after the message text"
                if self._text_written
                else ("connection lost before the relay replied")
            )
            attempt = transient(reason)
        return attempt

    async def _try(self, sender: str, recipient: str, data: bytes) -> Attempt | None:
        """One transaction; None means the connection dropped (see ``_text_written``)."""
        self._text_written = False
        if self._reader is None or self._reader.closed:
            failure = await self._connect()
            if failure is not None:
                return failure
        assert self._reader is not None
        try:
            attempt = await self._transaction(self._reader, sender, recipient, data)
            self._careful = attempt.pushback
            self._pushbacks_on_connection += attempt.pushback
        except _ConnectionLost:
            await self.close()
            return None
        except TimeoutError:
            await self.close()
            return transient(f"timeout: no reply within {self._config.timeout:g} s")
        self._sent_on_connection += 1
        if (
            self._sent_on_connection >= self._config.messages_per_connection
            or self._pushbacks_on_connection >= PUSHBACKS_PER_CONNECTION
        ):
            await self.close()
        return attempt

    async def _transaction(
        self, reader: _ReplyReader, sender: str, recipient: str, data: bytes
    ) -> Attempt:
        timeout = self._config.timeout
        commands: tuple[tuple[bytes, Stage], ...] = (
            (b"MAIL FROM:<" + sender.encode() + b">\r\n", "mail"),
            (b"RCPT TO:<" + recipient.encode() + b">\r\n", "rcpt"),
            (b"DATA\r\n", "data"),
        )
        replies: list[tuple[Reply, Stage]] = []
        pipelining = self._pipelining and not self._careful
        if pipelining:
            reader.write(b"".join(command for command, _ in commands))
        for command, stage in commands:
            if not pipelining:
                reader.write(command)
            reply = await reader.read(timeout)
            replies.append((reply, stage))
            if reply.code == 421:
                # The relay is closing on us: its reply, not the hang-up, is the outcome,
                # and no goodbye is owed.
                reader.transport.close()
                self._reader = self._client = None
                return classify(reply.code, reply.text, stage)
            if reply.code >= 400 and not pipelining:
                break
        refused = next(((r, s) for r, s in replies if r.code >= 400), None)
        data_accepted = replies[-1][0].code == 354
        if refused is None and data_accepted:
            self._text_written = True
            reader.write(data)
            final = await reader.read(timeout)
            if final.code >= 400:
                await self._reset(reader)
            return classify(final.code, final.text, "message")
        if data_accepted:
            # The relay took DATA although it refused MAIL or RCPT: send an empty text.
            reader.write(b".\r\n")
            await reader.read(timeout)
        await self._reset(reader)
        reply, stage = refused or replies[-1]
        return classify(reply.code, reply.text, stage)

    async def _reset(self, reader: _ReplyReader) -> None:
        """Clear the envelope after a refusal; a relay that hangs up instead is fine too."""
        try:
            reader.write(b"RSET\r\n")
            await reader.read(self._config.timeout)
        except (_ConnectionLost, TimeoutError):
            await self.close()

    async def _connect(self) -> Attempt | None:
        config = self._config
        client = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            username=config.username or None,
            password=self._password if config.username else None,
            local_hostname=self._local_hostname,
            timeout=config.timeout,
            use_tls=config.security == "tls",
            start_tls=config.security == "starttls",
            tls_context=self._tls,
        )
        try:
            await client.connect()
            if client.is_ehlo_or_helo_needed:
                try:
                    await client.ehlo()
                except aiosmtplib.SMTPHeloError:
                    await client.helo()
        except aiosmtplib.SMTPResponseException as exc:
            client.close()
            return classify(exc.code, exc.message, "connect")
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            client.close()
            return transient(
                f"cannot connect to {config.host}:{config.port}: {exc}", connection_failed=True
            )
        transport = client.transport
        if transport is None:
            client.close()
            return transient("the SMTP connection has no usable transport", connection_failed=True)
        self._client = client
        self._pipelining = client.supports_extension("pipelining")
        # A stream transport by what it does: uvloop's do not inherit asyncio.Transport.
        self._reader = _ReplyReader(cast(asyncio.Transport, transport))
        transport.set_protocol(self._reader)
        self._sent_on_connection = self._pushbacks_on_connection = 0
        return None

    async def close(self) -> None:
        """Say goodbye if the connection still works; never wait long for it."""
        reader, self._reader = self._reader, None
        self._client = None
        if reader is None:
            return
        if not reader.closed:
            try:
                reader.write(b"QUIT\r\n")
                await reader.read(min(self._config.timeout, 5.0))
            except (_ConnectionLost, TimeoutError):
                pass
        reader.transport.close()
        # A TLS close waits for the relay's close_notify; let it finish (or cut it short)
        # before the event loop ends, or the socket is left open behind it.
        try:
            await asyncio.wait_for(reader.gone.wait(), timeout=2.0)
        except TimeoutError:
            reader.transport.abort()


class SmtpPool:
    """``smtp.connections`` sessions, opened lazily on first use and reused."""

    def __init__(self, config: SmtpSection, password: str | None) -> None:
        self._config = config
        self._password = password
        self.connections: list[SmtpConnection] = []

    def create(self) -> list[SmtpConnection]:
        local_hostname = socket.getfqdn()
        tls = tls_context(self._config)
        self.connections = [
            SmtpConnection(self._config, self._password, local_hostname, tls)
            for _ in range(self._config.connections)
        ]
        return self.connections

    async def close(self) -> None:
        await asyncio.gather(*(connection.close() for connection in self.connections))
