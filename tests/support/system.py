"""The machine the tests run on: free ports, polling, the installed console script, paths."""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE_POSTS = REPOSITORY / "examples" / "posts"
SCREENSHOTS = REPOSITORY / "test-artifacts" / "screenshots"
# The venv's console script: tests that start processes run what a user would run.
NEWSLETTER_SCRIPT = Path(sys.executable).with_name("newsletter")
POLL_SECONDS = 0.05  # how often a wait looks at its condition again


def save_screenshot(page: Page, name: str) -> None:
    """The whole page as ``test-artifacts/screenshots/NAME.png``, for a human to look at.

    The bytes are written here, not by Playwright's ``path=``: Playwright writes files from
    a thread pool of its event loop, which would outlive the test (it lives as long as the
    module's browser) and count as a leaked thread.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / f"{name}.png").write_bytes(page.screenshot(full_page=True))


WIDTHS = (375, 1280)


def screenshot(page: Page, name: str) -> None:
    """``web-NAME-375.png`` and ``web-NAME-1280.png``: a phone and a desktop; the page
    must not be wider than either."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        save_screenshot(page, f"web-{name}-{width}")
        content_width = page.evaluate("document.documentElement.scrollWidth")
        assert content_width <= width, f"{name} overflows at {width}px: {content_width}px wide"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    For processes that take their port as an argument; servers inside the test process
    bind port 0 instead, which cannot race.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], object], *, timeout: float, what: str) -> None:
    """Poll ``condition`` until it is true; fail naming ``what`` after ``timeout``.

    A poll with a generous deadline instead of a fixed sleep: fast on an idle machine,
    still green on a busy one.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        _check(deadline, timeout, what)
        time.sleep(POLL_SECONDS)


async def wait_until_async(condition: Callable[[], object], *, timeout: float, what: str) -> None:
    """:func:`wait_until` for a coroutine: the event loop runs on while it waits, so a
    server in the same loop can make ``condition`` true."""
    deadline = time.monotonic() + timeout
    while not condition():
        _check(deadline, timeout, what)
        await asyncio.sleep(POLL_SECONDS)


def _check(deadline: float, timeout: float, what: str) -> None:
    if time.monotonic() > deadline:
        pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
