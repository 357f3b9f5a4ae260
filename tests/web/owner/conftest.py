"""Fixtures of the owner's area: the app with an owner address, and logging in as the
owner does, through the login mail that the test relay receives."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from starlette.applications import Starlette

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.web.app import create_app
from tests.support.settings import OWNER, make_settings, relay
from tests.support.smtp import ReceivedMail

from ..conftest import BASE_URL, LiveServer, http_client, serving

AREA = "/beheer"


FEED = "https://gerritvanderheide.com/feed/"


def owner_settings(smtp_port: int, base_url: str = BASE_URL) -> Settings:
    return make_settings(
        newsletter={"base_url": base_url, "owner_address": OWNER},
        smtp=relay(smtp_port, timeout=10),
        posts={"feeds": (FEED,)},
    )


@pytest.fixture
def settings(smtp_port: int) -> Settings:
    return owner_settings(smtp_port)


@pytest.fixture
def owner_server(database: Database, smtp_port: int) -> Iterator[LiveServer]:
    """The app on a real uvicorn, with an owner address and one feed, as the owner runs it."""
    with serving(database, lambda url: owner_settings(smtp_port, base_url=url)) as server:
        yield server


@pytest.fixture
def app(settings: Settings, database: Database) -> Starlette:
    return create_app(settings, database)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(app) as http:
        yield http


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token in a page's first form."""
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert match, f"no CSRF field in:\n{page.text[:2000]}"
    return match[1]


async def ask_for_link(client: httpx.AsyncClient, outbox: list[ReceivedMail]) -> str:
    """Press the login page's button; the link of the mail that arrived."""
    page = await client.get(AREA)
    before = len(outbox)
    answer = await client.post(AREA, data={"csrf": csrf_of(page)})
    assert answer.status_code == 200, answer.text
    assert len(outbox) == before + 1, "no login mail arrived"
    return outbox[-1].link(AREA + "/inloggen/")


async def use_link(client: httpx.AsyncClient, link: str) -> httpx.Response:
    """Open the mailed link and press its button, as the owner does."""
    path = link.removeprefix(BASE_URL)
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return await client.post(path, data={"csrf": csrf_of(page)})


async def log_in(client: httpx.AsyncClient, outbox: list[ReceivedMail]) -> httpx.Response:
    """The whole login; the overview it lands on."""
    answer = await use_link(client, await ask_for_link(client, outbox))
    assert answer.status_code == 303, answer.text
    overview = await client.get(AREA)
    assert overview.status_code == 200
    assert "Hoe gaat het met de nieuwsbrief?" in overview.text
    return overview
