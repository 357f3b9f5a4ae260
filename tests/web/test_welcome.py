"""The welcome mail after a confirmed sign-up, over HTTP against the ASGI app.

The cases around the browser test (``test_welcome_browser``): no edition yet, switched off,
confirming twice, an already active reader. Mail goes over real SMTP to the toolkit's
aiosmtpd server; background tasks finish before the ASGI call returns, so every mail is
in when a request has been answered.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

import httpx

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.web.app import create_app
from tests.support.db import add_subscriber
from tests.support.smtp import ReceivedMail, SmtpServer

from .conftest import http_client

WELCOME = "Welkom bij Nieuwsbrief van Gerrit"


def _subjects(outbox: list[ReceivedMail]) -> list[str]:
    return [str(mail.message["Subject"]) for mail in outbox]


async def _sign_up_and_confirm(
    client: httpx.AsyncClient, outbox: list[ReceivedMail], address: str
) -> None:
    await client.post("/subscribe", data={"email": address})
    confirm = next(mail for mail in outbox if mail.recipients == [address])
    await client.post(urlsplit(confirm.link("/confirm/")).path)


async def test_without_any_edition_the_welcome_links_the_archive(
    client: httpx.AsyncClient, outbox: list[ReceivedMail], settings: Settings
) -> None:
    await _sign_up_and_confirm(client, outbox, "sanne@example.nl")
    assert _subjects(outbox) == ["Bevestig je aanmelding voor Nieuwsbrief van Gerrit", WELCOME]
    welcome = outbox[1]
    assert "Archief: http://testserver/archive\r\n" in welcome.text()
    assert "Pauzeren, ander adres of naam: http://testserver/manage/" in welcome.text()
    assert "elke maandag rond 07:00" in welcome.text()


async def test_welcome_can_be_switched_off(
    database: Database, smtp_server: SmtpServer, settings: Settings
) -> None:
    quiet = replace(settings, newsletter=replace(settings.newsletter, welcome=False))
    async with http_client(create_app(quiet, database)) as client:
        await _sign_up_and_confirm(client, smtp_server.handler.received, "sanne@example.nl")
    assert _subjects(smtp_server.handler.received) == [
        "Bevestig je aanmelding voor Nieuwsbrief van Gerrit"
    ]


async def test_an_active_reader_confirming_again_gets_no_welcome(
    client: httpx.AsyncClient, database: Database, outbox: list[ReceivedMail]
) -> None:
    await _sign_up_and_confirm(client, outbox, "sanne@example.nl")
    await _sign_up_and_confirm(client, outbox, "sanne@example.nl")
    assert _subjects(outbox).count(WELCOME) == 1
    add_subscriber(database, "al.lang@example.nl")  # imported as active: never welcomed
    await client.post("/subscribe", data={"email": "al.lang@example.nl"})
    assert _subjects(outbox).count(WELCOME) == 1
