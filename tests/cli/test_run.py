"""``newsletter run`` in-process: ``--once`` for cron, the log format, and what it refuses
before doing any work (no secret key, a web port that is taken). The daemon itself, the
demo and ``--once`` against a relay run as processes in tests/runtime/."""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsletter.db.database import Database
from tests.support.cli import NewsletterCli
from tests.support.db import add_subscribers
from tests.support.posts import add_post

# Over a week: the latest weekly slot is always one to catch up on, whatever the day.
CATCH_UP = {"NEWSLETTER_SCHEDULE__CATCH_UP_HOURS": "200"}
WEEK = r"week \d{4}-W\d{2}"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: what ``run`` does with a database is tested per backend where it is done."""
    return f"sqlite:///{tmp_path}/newsletter.db"


@pytest.fixture
def newsletter(database: Database, database_url: str, tmp_path: Path) -> Iterator[NewsletterCli]:
    """The CLI on a migrated database; the root logger as it was afterwards (``run`` sets
    it up for the process, as a daemon's entry point does)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield NewsletterCli(database_url, tmp_path)
    root.handlers[:] = handlers
    root.setLevel(level)


def test_once_sends_the_due_edition_and_then_knows_it_was_made(
    newsletter: NewsletterCli, database: Database, tmp_path: Path
) -> None:
    add_subscribers(database, 3)
    add_post(database)
    first = newsletter.ok("run", "--once", **CATCH_UP)
    assert re.fullmatch(rf"{WEEK}: sent sent: sent 3, deferred 0, failed 0, skipped 0\n", first)
    assert len(list((tmp_path / "outbox" / "new").iterdir())) == 3
    again = newsletter.ok("run", "--once", **CATCH_UP)
    assert re.fullmatch(rf"{WEEK}: already made\n", again)
    assert len(list((tmp_path / "outbox" / "new").iterdir())) == 3


def test_once_with_an_empty_queue_says_so_and_logs_json_when_asked(
    newsletter: NewsletterCli,
) -> None:
    result = newsletter("run", "--once", "--log-format", "json", **CATCH_UP)
    assert result.exit_code == 0, result.output
    assert re.fullmatch(rf"{WEEK}: queue empty\n", result.stdout)
    (handler,) = logging.getLogger().handlers
    record = logging.makeLogRecord(
        {"name": "newsletter", "levelno": logging.WARNING, "levelname": "WARNING",
         "msg": "week %s: the queue is empty", "args": ("2026-W49",)}
    )  # fmt: skip
    assert "week 2026-W49: the queue is empty" in json.loads(handler.format(record)).values()


def test_nothing_runs_without_a_secret_key(newsletter: NewsletterCli, tmp_path: Path) -> None:
    error = newsletter.fails("run", "--once", code=2, NEWSLETTER_SECRET_KEY="")
    assert "no secret key" in error
    assert not (tmp_path / "outbox").exists()


def test_a_web_port_that_is_taken_stops_the_daemon_before_any_work(
    newsletter: NewsletterCli,
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        error = newsletter.fails("run", code=2, NEWSLETTER_WEB__PORT=str(port))
    assert f"web.port {port} on 127.0.0.1 is not available" in error
    assert "daemons running: 0" in newsletter.ok("status")


def test_an_unknown_log_format_is_a_usage_error(newsletter: NewsletterCli) -> None:
    result = newsletter("run", "--log-format", "xml")
    assert result.exit_code == 2
    assert "'xml' is not one of 'text', 'json'" in result.stderr
