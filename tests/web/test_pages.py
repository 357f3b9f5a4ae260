"""Archive, health check, error pages and the headers every response carries."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from newsletter.config import Settings
from newsletter.db.database import Database, make_engine
from newsletter.db.models import SubscriberStatus
from newsletter.mail.render import PLACEHOLDERS
from newsletter.mail.tokens import make_token
from newsletter.web.app import create_app
from newsletter.web.security import SECURITY_HEADERS
from tests.support.db import add_edition, add_subscriber
from tests.support.posts import make_post
from tests.support.settings import SECRET

from .conftest import http_client

ADDRESS = "lezer@example.nl"


def assert_secure(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.request.url, name)


async def test_security_headers_on_every_response(
    client: httpx.AsyncClient, database: Database
) -> None:
    subscriber_id = add_subscriber(database, ADDRESS)
    add_edition(database, make_post("innerlijke-rust", "Innerlijke rust", every_block=True), "sent")
    unsubscribe = f"/unsubscribe/{make_token(SECRET, 'unsubscribe', subscriber_id)}"
    confirm = f"/confirm/{make_token(SECRET, 'confirm', subscriber_id)}"
    requests = [
        ("GET", "/"),
        ("GET", "/subscribe"),
        ("OPTIONS", "/subscribe"),
        ("GET", "/archive"),
        ("GET", "/archive/innerlijke-rust"),
        ("GET", "/archive/bestaat-niet"),
        ("GET", "/healthz"),
        ("GET", unsubscribe),
        ("GET", confirm),
        ("GET", "/unsubscribe/kapot"),
        ("PUT", "/subscribe"),
        ("POST", "/subscribe"),
        ("POST", confirm),
        ("POST", unsubscribe),
    ]
    for method, path in requests:
        response = await client.request(method, path)
        assert response.status_code < 500, (method, path)
        assert_secure(response)
    one_click = await client.post(
        f"/unsubscribe/{make_token(SECRET, 'unsubscribe', subscriber_id)}",
        data={"List-Unsubscribe": "One-Click"},
    )
    assert_secure(one_click)


async def test_dutch_error_pages(client: httpx.AsyncClient) -> None:
    missing = await client.get("/bestaat/niet")
    wrong_method = await client.delete("/subscribe")
    too_large = await client.post("/subscribe", data={"email": "a@example.nl", "x": "y" * 20_000})

    assert missing.status_code == 404
    assert "Deze pagina bestaat niet" in missing.text
    assert wrong_method.status_code == 405
    assert "Dat kan zo niet" in wrong_method.text
    assert "POST" in wrong_method.headers["allow"]
    assert too_large.status_code == 413
    assert "Dat is te veel tekst" in too_large.text
    for response in (missing, wrong_method, too_large):
        assert '<html lang="nl"' in response.text


async def test_server_error_page_is_dutch_and_secure(settings: Settings) -> None:
    unreachable = Database(make_engine("postgresql://postgres@127.0.0.1:1/none"))
    async with http_client(create_app(settings, unreachable)) as http:
        broken = await http.get("/archive")
        health = await http.get("/healthz")

    assert broken.status_code == 500
    assert "Er ging iets mis" in broken.text
    assert_secure(broken)
    assert health.status_code == 503
    assert health.json() == {"database": "unreachable"}
    unreachable.dispose()


@pytest.mark.parametrize(
    ("scheduler_alive", "status_code", "expected"),
    [
        (None, 200, {"database": "ok"}),
        (lambda: True, 200, {"database": "ok", "scheduler": "ok"}),
        (lambda: False, 503, {"database": "ok", "scheduler": "not running"}),
    ],
)
async def test_healthz(
    settings: Settings,
    database: Database,
    scheduler_alive: Callable[[], bool] | None,
    status_code: int,
    expected: dict[str, str],
) -> None:
    app = create_app(settings, database, scheduler_alive=scheduler_alive)
    async with http_client(app) as http:
        response = await http.get("/healthz")
    assert response.status_code == status_code
    assert response.json() == expected


async def test_archive_lists_only_editions_that_went_out(
    client: httpx.AsyncClient, database: Database
) -> None:
    add_edition(database, make_post("verzonden", "Verzonden stuk"), "sent")
    add_edition(database, make_post("onderweg", "Stuk dat nu verzonden wordt"), "sending")
    add_edition(database, make_post("concept", "Nog een concept"), "draft")
    add_edition(database, make_post("geannuleerd", "Geannuleerd stuk"), "cancelled")

    index = await client.get("/archive")
    unsent = [await client.get(f"/archive/{slug}") for slug in ("concept", "geannuleerd")]

    assert index.status_code == 200
    assert "Verzonden stuk" in index.text and "Stuk dat nu verzonden wordt" in index.text
    assert "Nog een concept" not in index.text and "Geannuleerd stuk" not in index.text
    assert [r.status_code for r in unsent] == [404, 404]
    assert "Deze pagina bestaat niet" in unsent[0].text


async def test_archive_edition_shows_the_email_without_personal_data(
    client: httpx.AsyncClient, database: Database
) -> None:
    add_subscriber(database, ADDRESS, name="Lieke")
    add_subscriber(database, "weg@example.nl", SubscriberStatus.UNSUBSCRIBED)
    add_edition(database, make_post("innerlijke-rust", "Innerlijke rust", every_block=True), "sent")

    response = await client.get("/archive/innerlijke-rust")
    cached = await client.get("/archive/innerlijke-rust")

    assert response.status_code == 200
    assert cached.text == response.text
    page = response.text
    assert "Innerlijke rust" in page
    assert "Hoi," in page
    assert "Lieke" not in page and "example.nl" not in page
    assert "/unsubscribe/" not in page and "Afmelden" not in page
    assert 'href="http://testserver/subscribe"' in page and "Aanmelden" in page
    assert 'href="http://testserver/archive/innerlijke-rust"' in page
    assert not any(placeholder in page for placeholder in PLACEHOLDERS)
