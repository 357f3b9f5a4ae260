"""The owner's session: a signed cookie that ends with logging out, with a new secret key,
or after seven days; and no page or data of the area without one."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select, update
from starlette.applications import Starlette
from starlette.routing import Route

from newsletter.db.database import Database
from newsletter.db.models import Event, OwnerLogin, utcnow
from newsletter.web.app import create_app
from tests.support.db import add_edition
from tests.support.posts import add_post, make_post
from tests.support.settings import OWNER, make_settings, relay
from tests.support.smtp import ReceivedMail

from ..conftest import http_client
from .conftest import AREA, ask_for_link, csrf_of, log_in, use_link

LOGIN_PAGE = "Beheer van Nieuwsbrief van Gerrit"
WEEK = 7 * 24 * 3600


def session_cookie(client: httpx.AsyncClient) -> str:
    value = client.cookies.get("beheer_sessie")
    assert value, "no session cookie"
    return value


async def test_the_session_cookie_is_locked_down(
    client: httpx.AsyncClient, outbox: list[ReceivedMail]
) -> None:
    answer = await use_link(client, await ask_for_link(client, outbox))
    cookie = next(c for c in answer.headers.get_list("set-cookie") if "beheer_sessie=" in c)
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", f"max-age={WEEK}", "path=/beheer"} <= attributes
    assert "secure" not in attributes  # base_url is http here
    assert answer.headers["cache-control"] == "no-store"


async def test_the_cookie_is_secure_when_base_url_is_https(
    smtp_port: int, database: Database, outbox: list[ReceivedMail]
) -> None:
    settings = make_settings(
        newsletter={"base_url": "https://testserver", "owner_address": OWNER},
        smtp=relay(smtp_port, timeout=10),
    )
    async with http_client(create_app(settings, database)) as client:
        page = await client.get(AREA)
    assert "secure" in page.headers["set-cookie"].lower()


async def test_logging_out_ends_the_session_wherever_the_cookie_is(
    client: httpx.AsyncClient, outbox: list[ReceivedMail]
) -> None:
    overview = await log_in(client, outbox)
    copied = session_cookie(client)

    answer = await client.post(AREA + "/uitloggen", data={"csrf": csrf_of(overview)})

    assert answer.status_code == 303
    assert LOGIN_PAGE in (await client.get(AREA)).text
    client.cookies.set("beheer_sessie", copied, path=AREA)
    assert LOGIN_PAGE in (await client.get(AREA)).text


async def test_a_new_secret_key_ends_every_session(
    client: httpx.AsyncClient, smtp_port: int, database: Database, outbox: list[ReceivedMail]
) -> None:
    await log_in(client, outbox)
    cookie = session_cookie(client)
    rotated = make_settings(
        newsletter={"base_url": "http://testserver", "owner_address": OWNER},
        smtp=relay(smtp_port, timeout=10),
        secret="a-new-secret-after-rotation",
    )
    async with http_client(create_app(rotated, database)) as after:
        after.cookies.set("beheer_sessie", cookie, path=AREA)
        assert LOGIN_PAGE in (await after.get(AREA)).text


async def test_a_session_ends_after_seven_days(
    client: httpx.AsyncClient, database: Database, outbox: list[ReceivedMail]
) -> None:
    await log_in(client, outbox)
    with database.session() as session:
        session.execute(update(OwnerLogin).values(used_at=utcnow() - timedelta(days=7, seconds=1)))
    assert LOGIN_PAGE in (await client.get(AREA)).text


@pytest.mark.parametrize(
    "forged",
    [
        "1",
        "MQ.aaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        URLSafeTimedSerializer("a-guessed-secret", salt="newsletter.owner-session").dumps(1),
    ],
    # Named, not shown: the signed one carries the time, and every xdist worker must
    # collect the same test names.
    ids=["bare-id", "malformed", "signed-with-another-key"],
)
async def test_a_forged_cookie_opens_nothing(
    client: httpx.AsyncClient, database: Database, outbox: list[ReceivedMail], forged: str
) -> None:
    await log_in(client, outbox)  # a real session 1 exists: the forgery names it
    client.cookies.clear()
    client.cookies.set("beheer_sessie", forged, path=AREA)
    assert LOGIN_PAGE in (await client.get(AREA)).text


def _area_routes(app: Starlette) -> list[tuple[str, str]]:
    """(method, path) of every route of the area but the mailed link's own page."""
    found = []
    for route in app.routes:
        assert isinstance(route, Route)
        if not route.path.startswith(AREA) or route.path.startswith(AREA + "/inloggen/"):
            continue
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                found.append((method, route.path))
    return found


async def test_no_page_or_data_of_the_area_without_a_session(
    app: Starlette, client: httpx.AsyncClient, database: Database
) -> None:
    """Every route, with a valid CSRF token even, answers the login page and changes nothing."""
    edition_id = add_edition(database, make_post("geheim-stuk", "Een geheime titel"), "sent")
    add_post(database, make_post("wachtend-stuk", "Een wachtende titel"))
    routes = _area_routes(app)
    assert len(routes) >= 9, routes
    csrf = csrf_of(await client.get(AREA))
    with database.session() as session:
        events_before = session.scalar(select(func.count()).select_from(Event))
    for method, path in routes:
        url = re.sub(r"\{edition_id:int\}", str(edition_id), path)
        fields = {"csrf": csrf, "editie": str(edition_id), "post": "wachtend-stuk"}
        answer = await client.request(method, url, data=fields if method == "POST" else None)
        if (method, path) == ("POST", AREA):
            assert "Kijk in je mailbox" in answer.text  # asking for a link is the way in
            continue
        assert answer.status_code in (200, 403), (method, path, answer.status_code)
        assert LOGIN_PAGE in answer.text, (method, path)
        for secret in ("Een geheime titel", "Een wachtende titel", "geheim-stuk"):
            assert secret not in answer.text, (method, path)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == events_before
