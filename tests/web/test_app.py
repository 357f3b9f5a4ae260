"""The app's own routes are module-level functions: each app answers from its own state.

Health, error pages and the slash redirect are pinned in test_pages.py and
test_hostile_requests.py; here, that two apps in one process (the daemon's and a
test's, or two tests') never answer with each other's pages or scheduler.
"""

from __future__ import annotations

from newsletter.db.database import Database
from newsletter.web import create_app

from .conftest import BASE_URL, http_client, web_settings


async def test_two_apps_in_one_process_answer_from_their_own_state(
    smtp_port: int, database: Database
) -> None:
    running = create_app(
        web_settings(smtp_port, f"{BASE_URL}/nieuwsbrief"),
        database,
        scheduler_alive=lambda: True,
    )
    stopped = create_app(web_settings(smtp_port), database, scheduler_alive=lambda: False)
    async with http_client(running) as first, http_client(stopped) as second:
        first_home = await first.get("/")
        second_home = await second.get("/")
        first_health = await first.get("/healthz")
        second_health = await second.get("/healthz")

    assert first_home.headers["location"] == "/nieuwsbrief/archive"
    assert second_home.headers["location"] == "/archive"
    assert (first_health.status_code, first_health.json()["scheduler"]) == (200, "ok")
    assert (second_health.status_code, second_health.json()["scheduler"]) == (503, "not running")
