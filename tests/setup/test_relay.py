"""The relay check against a real aiosmtpd relay: STARTTLS and AUTH required, certificate
from a test CA named in smtp.ca_file. Nothing is ever sent: no MAIL command reaches it."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from newsletter.setup import doctor
from tests.support.smtp import RELAY_PASSWORD as PASSWORD
from tests.support.smtp import RELAY_USER as USER
from tests.support.smtp import RelayAuth, SmtpServer

from .conftest import closed_port, message, statuses, write_config


@pytest.fixture
def running_relay(server_tls: ssl.SSLContext) -> Iterator[SmtpServer]:
    """STARTTLS and AUTH required, certificate for 127.0.0.1 from the test CA."""
    with SmtpServer(auth=RelayAuth("starttls", server_tls)) as server:
        yield server


def check_relay(
    tmp_path: Path, port: int, ca_file: str, password: str = PASSWORD, **smtp: object
) -> list[doctor.Result]:
    config = write_config(
        tmp_path / "config.toml",
        {
            "newsletter": {"from_address": USER},
            "smtp": {
                "host": "127.0.0.1",
                "port": port,
                "security": "starttls",
                "username": USER,
                "ca_file": ca_file,
                "timeout": 5.0,
                **smtp,
            },
        },
    )
    results = doctor.run(config, {"NEWSLETTER_SMTP_PASSWORD": password}, only=["relay"])
    assert [result.check for result in results] == ["config", "relay"]
    return results


def test_starttls_and_auth_against_a_trusted_relay_is_ok_and_sends_nothing(
    tmp_path: Path, running_relay: SmtpServer, ca_file: str
) -> None:
    port, handler = running_relay.port, running_relay.handler
    results = check_relay(tmp_path, port, ca_file)
    assert statuses(results)["relay"] == "ok", message(results, "relay")
    assert message(results, "relay") == (
        f"127.0.0.1:{port}: connected, STARTTLS, EHLO, AUTH as {USER} (nothing sent)"
    )
    assert [(login.user, login.password, login.encrypted) for login in handler.logins] == [
        (USER, PASSWORD, True)
    ]
    assert handler.mail_commands == 0


def test_a_wrong_password_fails_with_the_relays_answer(
    tmp_path: Path, running_relay: SmtpServer, ca_file: str
) -> None:
    port, handler = running_relay.port, running_relay.handler
    results = check_relay(tmp_path, port, ca_file, password="not-the-password")
    assert statuses(results)["relay"] == "fail"
    text = message(results, "relay")
    assert text.startswith(f"127.0.0.1:{port} refused the login of '{USER}': 535 ")
    assert text.endswith("check smtp.username and the password")
    assert "not-the-password" not in text
    # smtplib tries each mechanism the relay offers; none got in.
    assert handler.logins
    assert {login.password for login in handler.logins} == {"not-the-password"}
    assert handler.mail_commands == 0


def test_an_untrusted_certificate_fails_and_names_smtp_ca_file(
    tmp_path: Path, running_relay: SmtpServer
) -> None:
    """Without the test CA the system trust store is used, which has never heard of it."""
    port, handler = running_relay.port, running_relay.handler
    results = check_relay(tmp_path, port, ca_file="")
    assert statuses(results)["relay"] == "fail"
    assert message(results, "relay") == (
        f"the certificate of 127.0.0.1:{port} is not trusted (unable to get local issuer "
        "certificate): use the host name on the relay's certificate, or name its CA in "
        "smtp.ca_file"
    )
    assert handler.logins == []


def test_a_certificate_for_another_host_name_fails(
    tmp_path: Path, test_ca: trustme.CA, ca_file: str
) -> None:
    """A certificate from the trusted CA, but for another name than the one connected to."""
    other = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    test_ca.issue_cert("mail.example.org").configure_cert(other)
    with SmtpServer(auth=RelayAuth("starttls", other)) as server:
        results = check_relay(tmp_path, server.port, ca_file)
    port, handler = server.port, server.handler
    assert statuses(results)["relay"] == "fail"
    assert message(results, "relay") == (
        f"the certificate of 127.0.0.1:{port} is not trusted (IP address mismatch, certificate "
        "is not valid for '127.0.0.1'.): use the host name on the relay's certificate, or name "
        "its CA in smtp.ca_file"
    )
    assert handler.logins == []


def test_a_closed_port_fails_with_the_reason(tmp_path: Path, ca_file: str) -> None:
    port = closed_port()
    results = check_relay(tmp_path, port, ca_file)
    assert statuses(results)["relay"] == "fail"
    assert message(results, "relay") == (
        f"cannot connect to 127.0.0.1:{port}: Connection refused; check smtp.host and smtp.port"
    )


def test_a_user_without_a_password_fails_before_connecting(
    tmp_path: Path, running_relay: SmtpServer, ca_file: str
) -> None:
    port, handler = running_relay.port, running_relay.handler
    results = check_relay(tmp_path, port, ca_file, password="")
    assert statuses(results)["relay"] == "fail"
    assert "set NEWSLETTER_SMTP_PASSWORD or smtp.password_file" in message(results, "relay")
    assert handler.connections == 0


def test_no_relay_at_all_fails_and_an_explicit_maildir_warns(tmp_path: Path) -> None:
    base = {"newsletter": {"from_address": USER}}
    results = doctor.run(write_config(tmp_path / "a.toml", base), {}, only=["relay"])
    assert statuses(results)["relay"] == "fail"
    assert "set smtp.host" in message(results, "relay")
    chosen = {**base, "smtp": {"transport": "maildir"}}
    results = doctor.run(write_config(tmp_path / "b.toml", chosen), {}, only=["relay"])
    assert statuses(results)["relay"] == "warn"
