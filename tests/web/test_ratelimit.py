"""The sliding window, on a clock the test controls; the sign-up limit under uvicorn, with
and without a trusted proxy in front."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from newsletter.db.database import Database
from newsletter.runtime.servers import web_server
from newsletter.web.ratelimit import SlidingWindowLimiter
from tests.support.settings import make_settings
from tests.support.web import running


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_window_slides() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(3, 60, clock=clock)

    assert [limiter.allow("1.2.3.4") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("5.6.7.8")
    clock.now += 59
    assert not limiter.allow("1.2.3.4")
    clock.now += 1.5  # the first three hits are now older than the window
    assert [limiter.allow("1.2.3.4") for _ in range(4)] == [True, True, True, False]


def test_refused_hits_do_not_extend_the_wait() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(1, 10, clock=clock)
    assert limiter.allow("a")
    for _ in range(5):
        clock.now += 1.5
        assert not limiter.allow("a")
    clock.now += 2.6  # 10.1 s after the one counted hit
    assert limiter.allow("a")


def test_tracked_keys_stay_bounded() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(1, 60, max_keys=100, clock=clock)
    for number in range(1000):
        clock.now += 0.001
        assert limiter.allow(f"10.0.{number // 256}.{number % 256}")
    assert len(limiter._hits) <= 100
    # Busy keys that survived the pruning are still limited.
    assert not limiter.allow("10.0.3.231")


# Issue 20, defect 10: the per-IP limit under uvicorn as `newsletter web` and `run` start it.
# X-Forwarded-For is believed only from web.trusted_proxies.


@contextmanager
def signups(database: Database, tmp_path: Path, *trusted: str) -> Iterator[Callable[..., Any]]:
    """The app as ``newsletter web`` serves it; yields ``post(forwarded_for, n)``."""
    settings = make_settings(
        smtp={"transport": "maildir", "maildir": str(tmp_path / "outbox")},
        web={"host": "127.0.0.1", "port": 0, "trusted_proxies": trusted},
    )
    with running(web_server(settings, database)) as port:

        async def post(forwarded_for: str, n: int) -> int:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                answer = await http.post(
                    "/subscribe",
                    data={"email": f"lezer{n}@example.nl"},
                    headers={"X-Forwarded-For": forwarded_for},
                )
            return answer.status_code

        yield post


async def test_a_rotating_forwarded_for_does_not_get_past_the_limit(
    database: Database, tmp_path: Path
) -> None:
    with signups(database, tmp_path) as post:
        answers = [await post(f"198.51.100.{n}", n) for n in range(7)]
    assert answers == [200] * 5 + [429] * 2


async def test_behind_a_trusted_proxy_each_visitor_has_their_own_limit(
    database: Database, tmp_path: Path
) -> None:
    with signups(database, tmp_path, "127.0.0.1") as post:
        first = [await post("198.51.100.1", n) for n in range(6)]
        # A client's own X-Forwarded-For comes first; the proxy adds the address it saw.
        second = [await post(f"10.9.9.{n}, 198.51.100.2", 10 + n) for n in range(6)]
    assert first == second == [200] * 5 + [429]
