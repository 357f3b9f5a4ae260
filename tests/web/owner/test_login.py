"""Logging in to the owner's area by mail: the link from a real SMTP server, used once,
for fifteen minutes; the page answers the same whatever is sent to it."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import update
from starlette.applications import Starlette

from newsletter.db import owner_logins
from newsletter.db.database import Database
from newsletter.db.models import OwnerLogin, utcnow
from newsletter.web.app import create_app
from tests.support.settings import OWNER, make_settings, relay
from tests.support.smtp import ReceivedMail

from ..conftest import http_client
from .conftest import AREA, ask_for_link, csrf_of, use_link

LOGIN_PAGE = "Beheer van Nieuwsbrief van Gerrit"
REFUSED_LINK = "Deze inloglink werkt niet meer"


async def test_the_owner_logs_in_with_the_link_from_the_mail(
    client: httpx.AsyncClient, outbox: list[ReceivedMail]
) -> None:
    first = await client.get(AREA)
    assert LOGIN_PAGE in first.text
    link = await ask_for_link(client, outbox)
    mail = outbox[-1]
    assert mail.recipients == [OWNER]
    assert mail.message["Subject"] == "Inloggen bij Nieuwsbrief van Gerrit"
    assert "15 minuten" in mail.text()

    answer = await use_link(client, link)

    assert answer.status_code == 303
    assert answer.headers["location"] == AREA
    overview = await client.get(AREA)
    assert "Hoe gaat het met de nieuwsbrief?" in overview.text
    assert "Uitloggen" in overview.text


async def test_the_answer_is_the_same_whatever_is_sent(
    client: httpx.AsyncClient, outbox: list[ReceivedMail]
) -> None:
    token = csrf_of(await client.get(AREA))
    answers = [
        await client.post(AREA, data={"csrf": token, **fields})
        for fields in ({}, {"email": "iemand@example.nl"}, {"email": OWNER, "naam": "x" * 500})
    ]
    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.text for answer in answers}) == 1
    assert "Kijk in je mailbox" in answers[0].text
    assert [mail.recipients for mail in outbox] == [[OWNER]] * 3


async def test_without_an_owner_address_the_page_is_the_same_and_nobody_is_mailed(
    smtp_port: int, database: Database, outbox: list[ReceivedMail]
) -> None:
    settings = make_settings(
        newsletter={"base_url": "http://testserver"}, smtp=relay(smtp_port, timeout=10)
    )
    async with http_client(create_app(settings, database)) as client:
        answer = await client.post(AREA, data={"csrf": csrf_of(await client.get(AREA))})
    assert answer.status_code == 200
    assert "Kijk in je mailbox" in answer.text
    assert outbox == []


async def test_opening_the_link_spends_nothing_and_it_works_once(
    client: httpx.AsyncClient, outbox: list[ReceivedMail]
) -> None:
    link = await ask_for_link(client, outbox)
    for _scanner in range(2):
        assert (await client.get(link)).status_code == 200

    assert (await use_link(client, link)).status_code == 303
    client.cookies.clear()
    again = await use_link(client, link)

    assert again.status_code == 400
    assert REFUSED_LINK in again.text
    assert "beheer_sessie" not in again.headers.get("set-cookie", "")
    assert LOGIN_PAGE in (await client.get(AREA)).text


async def test_an_expired_link_is_refused(
    client: httpx.AsyncClient, database: Database, outbox: list[ReceivedMail]
) -> None:
    link = await ask_for_link(client, outbox)
    with database.session() as session:
        session.execute(update(OwnerLogin).values(expires_at=utcnow() - timedelta(seconds=1)))

    answer = await use_link(client, link)

    assert answer.status_code == 400
    assert REFUSED_LINK in answer.text
    assert LOGIN_PAGE in (await client.get(AREA)).text


async def test_a_forged_link_is_refused(client: httpx.AsyncClient, database: Database) -> None:
    with database.session() as session:
        real = owner_logins.issue(session, utcnow())
    for forged in (real[:-1] + ("A" if real[-1] != "A" else "B"), "x" * 43, "%00"):
        answer = await use_link(client, f"{AREA}/inloggen/{forged}")
        assert answer.status_code == 400, forged
        assert REFUSED_LINK in answer.text


async def test_link_requests_and_tries_are_rate_limited(
    client: httpx.AsyncClient, outbox: list[ReceivedMail]
) -> None:
    token = csrf_of(await client.get(AREA))
    answers = [(await client.post(AREA, data={"csrf": token})).status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]
    assert len(outbox) == 5

    tries = []
    for _ in range(11):
        page = await client.get(f"{AREA}/inloggen/geraden")
        answer = await client.post(f"{AREA}/inloggen/geraden", data={"csrf": csrf_of(page)})
        tries.append(answer.status_code)
    assert tries == [400] * 10 + [429]


async def test_mails_to_the_owner_are_capped_whoever_asks(
    app: Starlette, outbox: list[ReceivedMail]
) -> None:
    for n in range(7):
        async with http_client(app, client_ip=f"198.51.100.{n}") as client:
            answer = await client.post(AREA, data={"csrf": csrf_of(await client.get(AREA))})
            assert "Kijk in je mailbox" in answer.text
    assert len(outbox) == 5


async def test_a_post_without_its_csrf_token_is_refused(
    app: Starlette, client: httpx.AsyncClient, outbox: list[ReceivedMail]
) -> None:
    await client.get(AREA)
    assert (await client.post(AREA)).status_code == 403
    assert (await client.post(AREA, data={"csrf": "0" * 64})).status_code == 403
    link = await ask_for_link(client, outbox)
    path = link.removeprefix("http://testserver")
    assert (await client.post(path)).status_code == 403
    # Still unspent: the refused POST did not use it.
    assert (await use_link(client, link)).status_code == 303

    # A token made for another browser's cookie does not fit this one.
    async with http_client(app) as other:
        foreign = csrf_of(await other.get(AREA))
    assert (await client.post(AREA, data={"csrf": foreign})).status_code == 403
