"""One SMTP test server: aiosmtpd on 127.0.0.1 port 0, in a thread with its own event loop.

Nothing is mocked: the code under test talks real SMTP over a real socket. The handler
records every message it accepts and injects the faults a test asks for, per recipient
address (a reply for RCPT, a stall, a hang-up in the middle of DATA), by count as real
relays fail under load (every Nth RCPT refused, every Nth DATA dropped halfway, ``421`` at
MAIL for a stretch of transactions, a script of replies per address) or for the whole
server (PIPELINING offered or not, a slow DATA, every message after the first N held in
DATA until the test lets them go). The handler remembers what it did to
whom, so a test can check each reader's end state against the fault that reader met. With ``auth`` the same server speaks
STARTTLS, implicit TLS or plain text with AUTH, using a certificate from a test CA, and
records every login and whether the transport was encrypted at that moment.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import ssl
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from typing import Any, Literal

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

AuthMode = Literal["starttls", "tls", "plain"]
RELAY_USER = "nieuwsbrief@gerritvanderheide.com"
RELAY_PASSWORD = "k3ep-Th1s-s3cret!"
GREYLISTED = "451 4.7.1 Greylisted, please try again later"
LOCAL_ERROR = "451 4.3.0 Temporary local problem, please try again"
USER_UNKNOWN = "550 5.1.1 Recipient address rejected: User unknown"
SLOW_DOWN = "421 4.7.0 Too many messages, slow down"


@dataclass
class Faults:
    """What the server does wrong, to particular recipients (by address) or to every one."""

    rcpt_replies: dict[str, str] = field(default_factory=dict)
    stall_rcpt: set[str] = field(default_factory=set)
    stall_seconds: float = 3.0
    hang_up_in_data: set[str] = field(default_factory=set)
    pipelining: bool = False
    data_seconds: float = 0.0  # per message, so that a send lasts long enough to interrupt
    # By count: N -> reply for every Nth RCPT (the first N that divides wins); a hang-up
    # after the first line of every Nth message text; 421 and a hang-up for MAIL commands
    # numbered first <= n < last; address -> the replies its next RCPTs get, one each.
    rcpt_every: dict[int, str] = field(default_factory=dict)
    drop_data_every: int = 0
    mail_421: tuple[int, int] = (0, 0)
    rcpt_script: dict[str, list[str]] = field(default_factory=dict)
    # Messages after the first ``hold_after`` wait in DATA, unanswered, until
    # ``handler.release()``; one whose client hangs up meanwhile is not taken.
    hold_after: int | None = None


@dataclass(frozen=True)
class RelayAuth:
    """A relay that wants TLS and AUTH: ``starttls`` (STARTTLS, then AUTH, both required),
    ``tls`` (implicit TLS from the first byte) or ``plain`` (AUTH offered in plain text)."""

    mode: AuthMode
    tls: ssl.SSLContext
    mechanisms: tuple[str, ...] = ("LOGIN", "PLAIN")
    user: str = RELAY_USER
    password: str = RELAY_PASSWORD


@dataclass(frozen=True)
class Login:
    mechanism: str
    user: str
    password: str
    encrypted: bool


@dataclass
class ReceivedMail:
    """One message as it arrived: the envelope, the bytes of DATA and the name the
    sending host gave in EHLO (which of several daemons sent it)."""

    sender: str
    recipients: list[str]
    data: bytes
    helo: str | None = None

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


def tls_version(server: SMTP) -> str | None:
    """The TLS version of the server's transport right now; None when in plain text."""
    transport = server.transport
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    return ssl_object.version() if ssl_object is not None else None


class RecordingHandler:
    """Keeps every accepted message and every login; injects the :class:`Faults`."""

    def __init__(self, faults: Faults, auth: RelayAuth | None = None) -> None:
        self.faults = faults
        self.auth = auth
        self.lock = threading.Lock()
        self.received: list[ReceivedMail] = []
        self.connections = 0
        self.in_data = 0  # messages the server is taking its time over right now
        self.logins: list[Login] = []
        self.auth_commands = 0
        self.mail_commands = 0
        self.delivered: list[tuple[str, str | None, Any]] = []  # address, TLS version, login
        self.rcpt_commands = 0
        self.data_commands = 0
        self.refused: dict[str, list[str]] = {}  # address -> the refusals it got, in order
        self.dropped: list[str] = []  # recipients whose message text was cut off
        self.pushed_back = 0  # 421s at MAIL
        self.accepted_at: list[float] = []  # monotonic time of every accepted message
        self.data_started = 0  # messages that reached DATA, accepted or not
        self.released = threading.Event()  # lets the messages of ``faults.hold_after`` go

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

    def authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword) and self.auth is not None
        login = Login(
            mechanism,
            auth_data.login.decode(),
            auth_data.password.decode(),
            tls_version(server) is not None,
        )
        with self.lock:
            self.logins.append(login)
        ok = (login.user, login.password) == (self.auth.user, self.auth.password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        with self.lock:
            self.mail_commands += 1
        # aiosmtpd enforces AUTH only with STARTTLS; on an implicit TLS socket (or in plain
        # text) this is where a relay that wants a login refuses mail without one.
        if self.auth is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.faults.stall_rcpt:
            await asyncio.sleep(self.faults.stall_seconds)
        reply = self.faults.rcpt_replies.get(address)
        if reply:
            return reply
        with self.lock:
            self.rcpt_commands += 1
            counted = self._counted_refusal(address, self.rcpt_commands)
        if counted:
            return counted
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    def _counted_refusal(self, address: str, number: int) -> str | None:
        faults = self.faults
        reply = next((r for every, r in faults.rcpt_every.items() if number % every == 0), None)
        if reply is None and faults.rcpt_script.get(address):
            reply = faults.rcpt_script[address].pop(0)
        if reply is not None:
            self.refused.setdefault(address, []).append(reply)
        return reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.in_data += 1
        try:
            if self.faults.data_seconds:
                await asyncio.sleep(self.faults.data_seconds)
            await self._wait_if_held()
            with self.lock:
                login = session.auth_data.login if session.auth_data else None
                for address in envelope.rcpt_tos:
                    self.delivered.append((address, tls_version(server), login))
                self.received.append(
                    ReceivedMail(
                        str(envelope.mail_from),
                        list(envelope.rcpt_tos),
                        bytes(envelope.original_content or b""),
                        session.host_name,
                    )
                )
                self.accepted_at.append(time.monotonic())
            return "250 2.0.0 OK: queued"
        finally:  # also when the client hangs up: aiosmtpd cancels the handler then
            with self.lock:
                self.in_data -= 1

    async def _wait_if_held(self) -> None:
        """Past ``faults.hold_after`` messages, wait for :meth:`release` (a poll: the
        test's thread sets the event, not this loop)."""
        with self.lock:
            self.data_started += 1
            held = self.faults.hold_after is not None and self.data_started > self.faults.hold_after
        while held and not self.released.is_set():
            await asyncio.sleep(0.02)

    def release(self) -> None:
        self.released.set()

    def hosts(self) -> Counter[str | None]:
        """Messages per sending host (EHLO name)."""
        with self.lock:
            return Counter(mail.helo for mail in self.received for _ in mail.recipients)

    @property
    def messages(self) -> list[tuple[str, bytes]]:
        """(recipient, message bytes), one per recipient of every accepted message."""
        with self.lock:
            return [(rcpt, mail.data) for mail in self.received for rcpt in mail.recipients]

    def count(self) -> int:
        return len(self.messages)

    def per_address(self) -> Counter[str]:
        return Counter(address for address, _ in self.messages)

    def parsed(self) -> dict[str, Message]:
        return {address: email.message_from_bytes(raw) for address, raw in self.messages}

    def assert_each_got_one(self, addresses: Iterable[str]) -> None:
        """Exactly these readers got a message, and none of them twice."""
        received = self.per_address()
        assert set(received) == set(addresses), "a reader was lost, or mailed who should not be"
        assert set(received.values()) <= {1}, "a reader got the message twice"


class FaultySMTP(SMTP):
    """aiosmtpd's server, able to hang up halfway through the message text; counts AUTH
    commands of any mechanism, including those refused before the password is checked."""

    async def smtp_AUTH(self, arg: str) -> None:
        with self.event_handler.lock:
            self.event_handler.auth_commands += 1
        await super().smtp_AUTH(arg)

    async def smtp_MAIL(self, arg: str) -> None:
        handler = self.event_handler
        with handler.lock:
            first, last = handler.faults.mail_421
            refuse = first <= handler.mail_commands + 1 < last
            if refuse:
                handler.mail_commands += 1  # handle_MAIL counts the others
                handler.pushed_back += 1
        if refuse:
            await self.push(SLOW_DOWN)
            self.transport.close()
            return
        await super().smtp_MAIL(arg)

    async def smtp_DATA(self, arg: str) -> None:
        handler = self.event_handler
        every = handler.faults.drop_data_every
        with handler.lock:
            handler.data_commands += 1
            drop = bool(every and self.envelope.rcpt_tos) and handler.data_commands % every == 0
            if drop:
                handler.dropped.extend(self.envelope.rcpt_tos)
        if drop or set(self.envelope.rcpt_tos) & handler.faults.hang_up_in_data:
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            await self._reader.readline()
            self.transport.close()
            return
        await super().smtp_DATA(arg)


def _auth_options(handler: RecordingHandler, auth: RelayAuth | None) -> dict[str, Any]:
    if auth is None:
        return {}
    excluded = [m for m in ("LOGIN", "PLAIN") if m not in auth.mechanisms]
    common = {"authenticator": handler.authenticate, "auth_exclude_mechanism": excluded}
    if auth.mode == "starttls":
        return {
            **common,
            "tls_context": auth.tls,
            "require_starttls": True,
            "auth_required": True,
            "auth_require_tls": True,
        }
    # aiosmtpd sees STARTTLS only as "TLS"; on an implicit TLS socket handle_MAIL does the
    # requiring of AUTH.
    return {**common, "auth_require_tls": False}


class SmtpServer:
    """A server thread; ``port`` is known once started. ``stop`` closes every connection.

    ``port`` and ``handler`` bring a stopped relay back where it was, with its records:
    a relay that was down for a while."""

    def __init__(
        self,
        faults: Faults | None = None,
        *,
        auth: RelayAuth | None = None,
        port: int = 0,
        handler: RecordingHandler | None = None,
    ) -> None:
        self.handler = handler or RecordingHandler(faults or Faults(), auth)
        self.auth = auth
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        handler, auth = self.handler, self.auth
        options = _auth_options(handler, auth)

        def factory() -> SMTP:
            handler.connections += 1
            return FaultySMTP(handler, hostname="relay.test", ident="test relay", **options)

        implicit_tls = auth.tls if auth is not None and auth.mode == "tls" else None
        server = self._loop.run_until_complete(
            self._loop.create_server(
                factory, "127.0.0.1", self.port, ssl=implicit_tls, reuse_address=True
            )
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        self._loop.run_until_complete(server.wait_closed())
        self._loop.close()

    def start(self) -> SmtpServer:
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("the test SMTP server did not start within 5 s")
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
