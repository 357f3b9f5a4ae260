"""The publish path: `send` refuses what the check fails, and every single mail is DKIM-signed.

A review copy and a confirmation mail leave through the production single-message sender
to a real SMTP server; their signatures are verified with dkimpy against the public key,
served by a stand-in for DNS.
"""

from __future__ import annotations

import base64
import dataclasses
import email
from pathlib import Path

import dkim
import httpx
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from newsletter.cli import cli
from newsletter.config import DkimSection, Secret, Settings
from newsletter.db.database import Database
from newsletter.db.models import Delivery, Edition, Event
from newsletter.mail.render import render_edition
from newsletter.publish import send_test_copy
from newsletter.web import create_app

from .conftest import SECRET, SENDER, SmtpServer, add_post, add_subscribers, small_post

DKIM_DOMAIN = "gerritvanderheide.com"
DKIM_SELECTOR = "nb2026"


@pytest.fixture(scope="module")
def dkim_key() -> tuple[str, bytes]:
    """(private key PEM, the TXT record a receiver would look up)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def signed(settings: Settings, private_pem: str) -> Settings:
    return dataclasses.replace(
        settings,
        dkim=DkimSection(domain=DKIM_DOMAIN, selector=DKIM_SELECTOR),
        dkim_private_key=Secret(private_pem),
    )


def verifies(message: bytes, record: bytes) -> bool:
    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == f"{DKIM_SELECTOR}._domainkey.{DKIM_DOMAIN}.".encode()
        return record

    return bool(dkim.verify(message, dnsfunc=dns))


def test_the_review_copy_is_dkim_signed(
    settings: Settings, smtp_server: SmtpServer, dkim_key: tuple[str, bytes]
) -> None:
    private, record = dkim_key
    attempt = send_test_copy(
        signed(settings, private), render_edition(small_post(), settings), "gerrit@voorbeeld.nl"
    )
    assert attempt.outcome == "sent", attempt.reply
    [(address, message)] = smtp_server.handler.messages
    assert address == "gerrit@voorbeeld.nl"
    assert message.startswith(b"DKIM-Signature:")
    assert verifies(message, record)
    assert not verifies(message.replace(b"[TEST] ", b"[PROEF] ", 1), record)


async def test_the_confirmation_mail_is_dkim_signed(
    settings: Settings,
    smtp_server: SmtpServer,
    database: Database,
    dkim_key: tuple[str, bytes],
) -> None:
    private, record = dkim_key
    app = create_app(signed(settings, private), database)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    base_url = settings.newsletter.base_url
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        response = await client.post("/subscribe", data={"email": "nieuw@voorbeeld.nl"})
    assert response.status_code == 200
    [(address, message)] = smtp_server.handler.messages
    assert address == "nieuw@voorbeeld.nl"
    assert email.message_from_bytes(message)["Subject"].startswith("Bevestig je aanmelding")
    assert verifies(message, record)


@pytest.fixture
def send_cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``newsletter`` with a plain-http base URL: the check fails on List-Unsubscribe."""
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", SECRET)
    config = tmp_path / "newsletter.toml"

    def invoke(*args: str, smtp_port: int):
        config.write_text(
            f'[newsletter]\nfrom_address = "{SENDER}"\n'
            'base_url = "http://nieuwsbrief.gerritvanderheide.com"\n'
            f'[database]\nurl = "{database_url}"\n'
            f'[smtp]\ntransport = "smtp"\nhost = "127.0.0.1"\nport = {smtp_port}\n'
            'security = "none"\n',
            encoding="utf-8",
        )
        return CliRunner().invoke(cli, ["--config", str(config), *args])

    return invoke


def test_send_refuses_a_post_that_fails_the_check_unless_told_to_skip_it(
    database: Database, send_cli, smtp_server: SmtpServer
) -> None:
    add_subscribers(database, 3)
    slug = add_post(database)

    refused = send_cli("send", slug, "--yes", smtp_port=smtp_server.port)

    assert refused.exit_code == 1, refused.output
    assert "FAIL  List-Unsubscribe: no https URL" in refused.output
    assert "error: the deliverability check failed" in refused.output
    assert "Traceback" not in refused.output
    assert smtp_server.handler.count() == 0
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Edition)) == 0
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0

    forced = send_cli("send", slug, "--yes", "--skip-check", smtp_port=smtp_server.port)

    assert forced.exit_code == 0, forced.output
    assert smtp_server.handler.count() == 3
    with database.session() as session:
        skipped = session.scalars(select(Event).where(Event.kind == "check_skipped")).all()
        assert [(event.actor, (event.detail or {}).get("post")) for event in skipped] == [
            ("admin", slug)
        ]
