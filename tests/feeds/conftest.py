"""Fixtures of the feed tests: a real HTTP server on loopback, settings naming its feeds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .feed_server import FeedServer


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer().start()
    yield server
    server.stop()
