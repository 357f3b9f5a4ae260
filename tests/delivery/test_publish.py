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
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from newsletter.config import DkimSection, Secret, Settings
from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.db.models import Delivery, Edition, Event
from newsletter.delivery import editions
from newsletter.delivery.publish import prepare_edition, send_test_copy
from newsletter.errors import CheckFailedError
from newsletter.mail.render import render_edition
from newsletter.web.app import create_app
from tests.support.cli import NewsletterCli
from tests.support.db import add_subscribers
from tests.support.posts import add_post, make_post
from tests.support.settings import SENDER
from tests.support.smtp import SmtpServer

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
    handed = send_test_copy(
        signed(settings, private),
        render_edition(make_post(), settings.newsletter),
        "gerrit@voorbeeld.nl",
    )
    assert handed.problem is None, handed.problem
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
def newsletter(database_url: str, tmp_path: Path, smtp_server: SmtpServer) -> NewsletterCli:
    """``newsletter`` with a plain-http base URL (the check fails on List-Unsubscribe),
    sending through the test relay."""
    cli = NewsletterCli(database_url, tmp_path)
    cli.env.update(
        {
            "NEWSLETTER_NEWSLETTER__BASE_URL": "http://nieuwsbrief.gerritvanderheide.com",
            "NEWSLETTER_NEWSLETTER__FROM_ADDRESS": SENDER,
            "NEWSLETTER_SMTP__TRANSPORT": "smtp",
            "NEWSLETTER_SMTP__HOST": "127.0.0.1",
            "NEWSLETTER_SMTP__PORT": str(smtp_server.port),
            "NEWSLETTER_SMTP__SECURITY": "none",
        }
    )
    return cli


def test_send_refuses_a_post_that_fails_the_check_unless_told_to_skip_it(
    database: Database, newsletter: NewsletterCli, smtp_server: SmtpServer
) -> None:
    add_subscribers(database, 3)
    slug = add_post(database)

    refused = newsletter("send", slug, "--yes")

    assert refused.exit_code == 1, refused.output
    assert "FAIL  List-Unsubscribe: no https URL" in refused.stdout
    assert refused.stderr.startswith("error: the deliverability check failed")
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.output
    assert smtp_server.handler.count() == 0
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Edition)) == 0
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0

    newsletter.ok("send", slug, "--yes", "--skip-check")

    assert smtp_server.handler.count() == 3
    with database.session() as session:
        skipped = session.scalars(select(Event).where(Event.kind == "check_skipped")).all()
        assert [(event.actor, (event.detail or {}).get("post")) for event in skipped] == [
            ("admin", slug)
        ]


def test_dry_run_shows_the_check_and_the_question_comes_only_after_it_passed(
    database: Database, newsletter: NewsletterCli, smtp_server: SmtpServer
) -> None:
    add_subscribers(database, 2)
    slug = add_post(database)

    dry = newsletter.ok("send", slug, "--dry-run")
    assert "check:      FAILED; send would refuse" in dry
    assert "FAIL  List-Unsubscribe: no https URL" in dry
    # A failing check refuses before asking: the admin is never asked "send?" for nothing.
    refused = newsletter("send", slug, input="y\n")
    assert refused.exit_code == 1 and "Send " not in refused.stdout
    assert "--skip-check goes with a real send" in newsletter.fails(
        "send", slug, "--dry-run", "--skip-check"
    )
    # A passing post is asked about; "no" leaves nothing behind.
    https = {"NEWSLETTER_NEWSLETTER__BASE_URL": "https://nieuwsbrief.gerritvanderheide.com"}
    assert "check:      passed" in newsletter.ok("send", slug, "--dry-run", **https)
    declined = newsletter("send", slug, input="n\n", **https)
    assert declined.exit_code == 1 and "Send 'Rust vinden" in declined.stdout
    assert smtp_server.handler.count() == 0
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Edition)) == 0


def test_an_edition_made_beside_a_failing_check_is_never_kept_or_sent(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    """Without a question the rows are written while the check runs; a refusal undoes them,
    a hold keeps the edition held, and neither sends anything."""
    add_subscribers(database, 3)
    slug = add_post(database)
    plain_http = dataclasses.replace(
        settings,
        newsletter=dataclasses.replace(
            settings.newsletter, base_url="http://nieuwsbrief.gerritvanderheide.com"
        ),
    )

    with pytest.raises(CheckFailedError), database.session() as session:
        prepare_edition(
            session, plain_http, post_queue.get(session, slug), actor="admin", on_failure="refuse"
        )
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Edition)) == 0
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0

    with database.session() as session:
        held = prepare_edition(
            session, plain_http, post_queue.get(session, slug), actor="scheduler", on_failure="hold"
        )
    assert held.hold_reason is not None and "List-Unsubscribe" in held.hold_reason
    with database.session() as session:
        assert editions.describe_edition(session, held.edition_id).status == "held"
    assert smtp_server.handler.count() == 0
