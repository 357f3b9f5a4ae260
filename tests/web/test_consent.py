"""Proof of consent as the web app records it: the way in, the sign-up text's version, and
the request that confirmed (unless ``web.record_consent_ip`` is off)."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

import httpx

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.db.models import SubscriberStatus
from newsletter.web.app import create_app
from newsletter.web.pages import Pages
from tests.support.smtp import ReceivedMail

from .conftest import CLIENT_IP, http_client
from .test_signup import subscriber_by_address

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"


async def _confirm(client: httpx.AsyncClient, outbox: list[ReceivedMail], address: str) -> None:
    mail = next(mail for mail in outbox if mail.recipients == [address])
    await client.post(urlsplit(mail.link("/confirm/")).path, headers={"User-Agent": BROWSER})


async def test_a_form_sign_up_keeps_its_text_and_the_confirming_request(
    client: httpx.AsyncClient, database: Database, outbox: list[ReceivedMail], settings: Settings
) -> None:
    await client.post("/subscribe", data={"email": "noor@example.nl"})
    await _confirm(client, outbox, "noor@example.nl")
    row = subscriber_by_address(database, "noor@example.nl")
    assert row is not None and row.status == SubscriberStatus.ACTIVE
    form_text = Pages(settings).text_hash("subscribe.html", error=None, email="", name="")
    assert (row.consent_source, row.consent_form_hash) == ("form", form_text)
    assert (row.consent_ip, row.consent_user_agent) == (CLIENT_IP, BROWSER)
    assert row.signed_up_at is not None and row.confirmed_at is not None
    assert row.signed_up_at <= row.confirmed_at


async def test_the_api_is_its_own_way_in_and_has_no_text_of_ours(
    client: httpx.AsyncClient, database: Database, outbox: list[ReceivedMail]
) -> None:
    await client.post("/subscribe", json={"email": "bram@example.nl"})
    await _confirm(client, outbox, "bram@example.nl")
    row = subscriber_by_address(database, "bram@example.nl")
    assert row is not None
    assert (row.consent_source, row.consent_form_hash, row.consent_ip) == ("api", None, CLIENT_IP)


async def test_without_record_consent_ip_neither_address_nor_browser_is_kept(
    database: Database, settings: Settings, outbox: list[ReceivedMail]
) -> None:
    quiet = dataclasses.replace(
        settings, web=dataclasses.replace(settings.web, record_consent_ip=False)
    )
    async with http_client(create_app(quiet, database)) as client:
        await client.post("/subscribe", data={"email": "noor@example.nl"})
        await _confirm(client, outbox, "noor@example.nl")
    row = subscriber_by_address(database, "noor@example.nl")
    assert row is not None and row.status == SubscriberStatus.ACTIVE
    assert (row.consent_source, row.consent_ip, row.consent_user_agent) == ("form", None, None)


def test_the_sign_up_text_hash_is_stable_and_follows_the_words(settings: Settings) -> None:
    pages = Pages(settings)
    plain = pages.text_hash("subscribe.html", error=None, email="", name="")
    assert plain == pages.text_hash("subscribe.html", error=None, email="", name="")
    assert plain != pages.text_hash("subscribe.html", error="invalid_email", email="", name="")
    assert len(plain) == 64
