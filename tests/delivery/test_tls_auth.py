"""STARTTLS, implicit TLS and AUTH against real aiosmtpd servers with a throwaway CA.

The servers run in-process on 127.0.0.1 port 0 with a certificate for 127.0.0.1 issued by
a CA made for the test (trustme); the sender trusts that CA through ``smtp.ca_file`` and
nothing else, so every connection verifies the chain and the host name. The handler
records, per AUTH, the mechanism, user, password and whether the transport was encrypted
at that moment, and per message whether it arrived over TLS in an authenticated session:
the pipelined transactions run over the TLS transport that aiosmtplib hands over.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import logging
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import pytest
import trustme
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from newsletter.config import Secret, Settings, load_settings
from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.delivery import editions, send_edition
from newsletter.errors import ConfigError, DeliveryError

from .conftest import Faults, FaultySMTP, RecordingHandler, SmtpServer, add_post, add_subscribers
from .conftest import make_settings as base_settings

USER = "nieuwsbrief@gerritvanderheide.com"
PASSWORD = "k3ep-Th1s-s3cret!"
SUBSCRIBERS = 50

Mode = Literal["starttls", "tls", "plain"]


@dataclasses.dataclass(frozen=True)
class Login:
    mechanism: str
    user: str
    password: str
    encrypted: bool


class AuthHandler(RecordingHandler):
    """Records every AUTH and every MAIL; refuses MAIL before a successful AUTH."""

    def __init__(self, faults: Faults) -> None:
        super().__init__(faults)
        self.logins: list[Login] = []
        self.auth_commands = 0
        self.mail_commands = 0
        self.delivered: list[tuple[str, str | None, Any]] = []  # address, TLS version, login

    def authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login = Login(
            mechanism,
            auth_data.login.decode(),
            auth_data.password.decode(),
            _tls_version(server) is not None,
        )
        with self.lock:
            self.logins.append(login)
        ok = (login.user, login.password) == (USER, PASSWORD)
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        with self.lock:
            self.mail_commands += 1
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            for address in envelope.rcpt_tos:
                login = session.auth_data.login if session.auth_data else None
                self.delivered.append((address, _tls_version(server), login))
        return await super().handle_DATA(server, session, envelope)


def _tls_version(server: SMTP) -> str | None:
    """The TLS version of the server's transport right now; None when in plain text."""
    transport = server.transport
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    return ssl_object.version() if ssl_object is not None else None


class CountingSMTP(FaultySMTP):
    """Counts AUTH commands of any mechanism, including those refused before checking."""

    async def smtp_AUTH(self, arg: str) -> None:
        with self.event_handler.lock:
            self.event_handler.auth_commands += 1
        await super().smtp_AUTH(arg)


class AuthServer(SmtpServer):
    """``starttls``: STARTTLS and AUTH required (AUTH only after TLS); ``tls``: implicit
    TLS from the first byte; ``plain``: no TLS at all, yet AUTH offered in plain text."""

    def __init__(
        self,
        mode: Mode,
        server_tls: ssl.SSLContext | None,
        *,
        mechanisms: tuple[str, ...] = ("LOGIN", "PLAIN"),
        faults: Faults | None = None,
    ) -> None:
        super().__init__(faults)
        self.handler: AuthHandler = AuthHandler(self.handler.faults)
        self.mode = mode
        self.server_tls = server_tls
        self.excluded = [m for m in ("LOGIN", "PLAIN") if m not in mechanisms]

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        handler = self.handler
        options: dict[str, Any] = {
            "starttls": {
                "tls_context": self.server_tls,
                "require_starttls": True,
                "auth_required": True,
                "auth_require_tls": True,
            },
            # aiosmtpd sees STARTTLS only as "TLS"; on an implicit TLS socket the handler's
            # handle_MAIL does the requiring of AUTH.
            "tls": {"auth_require_tls": False},
            "plain": {"auth_require_tls": False},
        }[self.mode]

        def factory() -> SMTP:
            handler.connections += 1
            return CountingSMTP(
                handler,
                hostname="relay.test",
                ident="test relay",
                authenticator=handler.authenticate,
                auth_exclude_mechanism=self.excluded,
                **options,
            )

        server = self._loop.run_until_complete(
            self._loop.create_server(
                factory,
                "127.0.0.1",
                0,
                ssl=self.server_tls if self.mode == "tls" else None,
            )
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        self._loop.run_until_complete(server.wait_closed())
        self._loop.close()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: TLS and AUTH happen before the ledger, the same on every backend."""
    return f"sqlite:///{tmp_path}/newsletter.db"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "relay-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@contextmanager
def running(mode: Mode, server_tls: ssl.SSLContext, **kwargs: Any) -> Iterator[AuthServer]:
    server = AuthServer(mode, server_tls, **kwargs).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def starttls_server(server_tls: ssl.SSLContext) -> Iterator[AuthServer]:
    with running("starttls", server_tls) as server:
        yield server


def make_settings(
    port: int, security: str, ca_file: str, password: str = PASSWORD, **smtp: Any
) -> Settings:
    settings = base_settings(port, security=security, username=USER, ca_file=ca_file, **smtp)
    return dataclasses.replace(settings, smtp_password=Secret(password))


def new_edition(database: Database, subscribers: int = SUBSCRIBERS) -> tuple[int, list[str]]:
    addresses = add_subscribers(database, subscribers)
    slug = add_post(database)
    with database.session() as session:
        return editions.create_edition(session, post_queue.get(session, slug), "Rust"), addresses


def states(database: Database, edition_id: int) -> dict[str, tuple[str, str | None]]:
    with database.session() as session:
        return {
            row.email: (row.status, row.last_reply)
            for row in editions.iterate_deliveries(session, edition_id)
            if row.email
        }


def assert_everyone_got_one_encrypted_authenticated_message(
    server: AuthServer, addresses: list[str], mechanism: str | None = None
) -> None:
    received = server.handler.per_address()
    assert set(received) == set(addresses)
    assert set(received.values()) == {1}
    handler = server.handler
    assert len(handler.delivered) == len(addresses)
    for _, tls_version, login in handler.delivered:
        assert tls_version in ("TLSv1.2", "TLSv1.3")
        assert login == USER.encode()
    # Every connection authenticated once, over TLS, with the right user and password.
    assert handler.logins
    assert len(handler.logins) == handler.connections
    expected = {mechanism} if mechanism else {"LOGIN", "PLAIN"}
    for login in handler.logins:
        assert login.mechanism in expected
        assert (login.user, login.password, login.encrypted) == (USER, PASSWORD, True)


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "plain"])
@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_starttls_and_auth(database, server_tls, ca_file, mechanism, pipelining):
    edition_id, addresses = new_edition(database)
    faults = Faults(pipelining=pipelining)
    with running("starttls", server_tls, mechanisms=(mechanism,), faults=faults) as server:
        # A small per-connection cap: reconnecting means a new STARTTLS and a new AUTH.
        settings = make_settings(server.port, "starttls", ca_file, messages_per_connection=7)
        summary = send_edition(database, settings, edition_id)
        assert (summary.sent, summary.deferred, summary.failed) == (SUBSCRIBERS, 0, 0)
        assert summary.status == "sent"
        assert_everyone_got_one_encrypted_authenticated_message(server, addresses, mechanism)
        assert server.handler.connections >= SUBSCRIBERS // 7


def test_implicit_tls_and_auth(database, server_tls, ca_file):
    edition_id, addresses = new_edition(database)
    with running("tls", server_tls, faults=Faults(pipelining=True)) as server:
        settings = make_settings(server.port, "tls", ca_file)
        summary = send_edition(database, settings, edition_id)
        assert (summary.sent, summary.deferred, summary.failed) == (SUBSCRIBERS, 0, 0)
        assert summary.status == "sent"
        assert_everyone_got_one_encrypted_authenticated_message(server, addresses)
        assert server.handler.connections == settings.smtp.connections


def _secret_forms(password: str) -> list[str]:
    """The password and the base64 forms AUTH LOGIN / AUTH PLAIN put on the wire."""
    raw = password.encode()
    return [
        password,
        base64.b64encode(raw).decode(),
        base64.b64encode(b"\0" + USER.encode() + b"\0" + raw).decode(),
    ]


def test_a_wrong_password_defers_everything_and_is_never_shown(
    database, starttls_server: AuthServer, ca_file, caplog
):
    caplog.set_level(logging.DEBUG)
    wrong = "Wr0ng-pa55word#"
    edition_id, addresses = new_edition(database)
    settings = make_settings(starttls_server.port, "starttls", ca_file, password=wrong)

    summary = send_edition(database, settings, edition_id)

    assert summary.sent == 0 and summary.failed == 0 and summary.bounced == 0
    assert summary.relay_unavailable and summary.status == "sending"
    assert starttls_server.handler.count() == 0
    seen = starttls_server.handler.logins
    assert seen and {(x.user, x.password, x.encrypted) for x in seen} == {(USER, wrong, True)}
    rows = states(database, edition_id)
    assert set(rows) == set(addresses)  # nothing lost
    assert {status for status, _ in rows.values()} <= {"deferred", "queued"}
    deferred = [reply for status, reply in rows.values() if status == "deferred"]
    assert deferred and summary.deferred == len(deferred)
    assert all(reply == "535 5.7.8 Authentication credentials invalid" for reply in deferred)
    # Every log record at DEBUG and up (ours, aiosmtplib's and the test relay's).
    logged = "\n".join(
        f"{record.name} {record.getMessage()} {record.exc_text or ''}" for record in caplog.records
    )
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("newsletter.")]
    assert any("535 5.7.8" in message for message in warnings)  # the operator sees why
    shown = logged + repr(summary) + str(summary.to_json()) + repr(settings) + str(rows)
    for form in _secret_forms(wrong):
        assert form not in shown


def test_starttls_not_offered_stops_before_auth(database, server_tls, ca_file):
    edition_id, addresses = new_edition(database)
    with running("plain", server_tls) as server:  # offers AUTH PLAIN/LOGIN in plain text
        settings = make_settings(server.port, "starttls", ca_file)
        summary = send_edition(database, settings, edition_id)
        handler = server.handler
        assert handler.connections > 0
        assert (handler.auth_commands, len(handler.logins), handler.mail_commands) == (0, 0, 0)
    assert summary.sent == 0 and summary.failed == 0 and summary.relay_unavailable
    rows = states(database, edition_id)
    assert set(rows) == set(addresses)
    replies = {reply for status, reply in rows.values() if status == "deferred"}
    assert replies == {
        f"cannot connect to 127.0.0.1:{server.port}: "
        "SMTP STARTTLS extension not supported by server."
    }
    assert {status for status, _ in rows.values()} <= {"deferred", "queued"}


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_an_untrusted_certificate_is_refused_before_auth(database, server_tls, mode):
    """Without ``smtp.ca_file`` the system store does not know the test CA: no send."""
    edition_id, _ = new_edition(database, 10)
    with running(mode, server_tls) as server:
        summary = send_edition(database, make_settings(server.port, mode, ca_file=""), edition_id)
        assert (server.handler.auth_commands, server.handler.mail_commands) == (0, 0)
    assert summary.sent == 0 and summary.relay_unavailable
    replies = {reply for status, reply in states(database, edition_id).values() if reply}
    assert replies and all("CERTIFICATE_VERIFY_FAILED" in reply for reply in replies)


def test_ca_file_must_exist(tmp_path: Path, ca_file: str):
    environ = {
        "NEWSLETTER_SMTP__HOST": "relay.example.org",
        "NEWSLETTER_SMTP__CA_FILE": str(tmp_path / "missing.pem"),
    }
    with pytest.raises(ConfigError, match=r"smtp\.ca_file is not an existing file"):
        load_settings(environ=environ)
    settings = load_settings(environ={**environ, "NEWSLETTER_SMTP__CA_FILE": ca_file})
    assert settings.smtp.ca_file == ca_file


def test_a_ca_file_that_is_not_pem_stops_the_send_with_a_clear_error(
    database, starttls_server: AuthServer, tmp_path: Path
):
    edition_id, _ = new_edition(database, 3)
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate\n")
    settings = make_settings(starttls_server.port, "starttls", str(not_pem))
    with pytest.raises(DeliveryError, match=r"cannot load smtp\.ca_file"):
        send_edition(database, settings, edition_id)
    assert starttls_server.handler.connections == 0
    assert {status for status, _ in states(database, edition_id).values()} == {"queued"}
