"""STARTTLS, implicit TLS and AUTH against real aiosmtpd servers with a throwaway CA.

The servers run in-process on 127.0.0.1 port 0 with a certificate for 127.0.0.1 issued by
a CA made for the test (trustme); the sender trusts that CA through ``smtp.ca_file`` and
nothing else, so every connection verifies the chain and the host name. The handler
records, per AUTH, the mechanism, user, password and whether the transport was encrypted
at that moment, and per message whether it arrived over TLS in an authenticated session:
the pipelined transactions run over the TLS transport that aiosmtplib hands over.
"""

from __future__ import annotations

import base64
import logging
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from newsletter.config import Secret, Settings, load_settings
from newsletter.db.database import Database
from newsletter.delivery.engine import send_edition
from newsletter.errors import ConfigError, DeliveryError
from tests.support.db import delivery_states, new_edition
from tests.support.settings import make_settings, relay
from tests.support.smtp import (
    RELAY_PASSWORD,
    RELAY_USER,
    AuthMode,
    Faults,
    RelayAuth,
    SmtpServer,
)

USER = RELAY_USER
PASSWORD = RELAY_PASSWORD
SUBSCRIBERS = 50


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: TLS and AUTH happen before the ledger, the same on every backend."""
    return f"sqlite:///{tmp_path}/newsletter.db"


@contextmanager
def running(
    mode: AuthMode,
    server_tls: ssl.SSLContext,
    *,
    mechanisms: tuple[str, ...] = ("LOGIN", "PLAIN"),
    faults: Faults | None = None,
) -> Iterator[SmtpServer]:
    with SmtpServer(faults, auth=RelayAuth(mode, server_tls, mechanisms)) as server:
        yield server


@pytest.fixture
def starttls_server(server_tls: ssl.SSLContext) -> Iterator[SmtpServer]:
    with running("starttls", server_tls) as server:
        yield server


def relay_settings(
    port: int, security: str, ca_file: str, password: str = PASSWORD, **smtp: Any
) -> Settings:
    return make_settings(
        smtp=relay(port, security=security, username=USER, ca_file=ca_file, **smtp),
        smtp_password=Secret(password),
    )


def states(database: Database, edition_id: int) -> dict[str, tuple[str, str | None]]:
    return {
        address: (status, reply)
        for address, (status, _, reply) in delivery_states(database, edition_id).items()
    }


def assert_everyone_got_one_encrypted_authenticated_message(
    server: SmtpServer, addresses: list[str], mechanism: str | None = None
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
    edition_id, addresses = new_edition(database, SUBSCRIBERS)
    faults = Faults(pipelining=pipelining)
    with running("starttls", server_tls, mechanisms=(mechanism,), faults=faults) as server:
        # A small per-connection cap: reconnecting means a new STARTTLS and a new AUTH.
        settings = relay_settings(server.port, "starttls", ca_file, messages_per_connection=7)
        summary = send_edition(database, settings, edition_id)
        assert (summary.sent, summary.deferred, summary.failed) == (SUBSCRIBERS, 0, 0)
        assert summary.status == "sent"
        assert_everyone_got_one_encrypted_authenticated_message(server, addresses, mechanism)
        assert server.handler.connections >= SUBSCRIBERS // 7


def test_implicit_tls_and_auth(database, server_tls, ca_file):
    edition_id, addresses = new_edition(database, SUBSCRIBERS)
    with running("tls", server_tls, faults=Faults(pipelining=True)) as server:
        settings = relay_settings(server.port, "tls", ca_file)
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
    database, starttls_server: SmtpServer, ca_file, caplog
):
    caplog.set_level(logging.DEBUG)
    wrong = "Wr0ng-pa55word#"
    edition_id, addresses = new_edition(database, SUBSCRIBERS)
    settings = relay_settings(starttls_server.port, "starttls", ca_file, password=wrong)

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
    edition_id, addresses = new_edition(database, SUBSCRIBERS)
    with running("plain", server_tls) as server:  # offers AUTH PLAIN/LOGIN in plain text
        settings = relay_settings(server.port, "starttls", ca_file)
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
        summary = send_edition(database, relay_settings(server.port, mode, ca_file=""), edition_id)
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
    database, starttls_server: SmtpServer, tmp_path: Path
):
    edition_id, _ = new_edition(database, 3)
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate\n")
    settings = relay_settings(starttls_server.port, "starttls", str(not_pem))
    with pytest.raises(DeliveryError, match=r"cannot load smtp\.ca_file"):
        send_edition(database, settings, edition_id)
    assert starttls_server.handler.connections == 0
    assert {status for status, _ in states(database, edition_id).values()} == {"queued"}
