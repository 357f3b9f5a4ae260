"""The health check and the Dutch error pages (the archive and the headers every response
carries have files of their own)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from newsletter.config import Settings
from newsletter.db.database import Database, make_engine
from newsletter.web.app import create_app

from .conftest import http_client
from .test_security import assert_secure


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
