"""A feed with one entry that cannot be a post among good ones, polled over real HTTP.

The good posts are queued, the bad entry is reported with one line (feed URL, entry
number and GUID, reason) in the poll's report, in ``posts fetch`` (text and ``--json``)
and in the daemon's log; the feed itself is read, not failed, so no owner alert follows.
Against the loopback feed server and a real database (SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.db.models import Feed
from newsletter.db.models import Post as PostRow
from newsletter.errors import ContentError
from newsletter.feeds import state
from newsletter.feeds.entries import SkippedEntry
from newsletter.feeds.poll import poll_feeds
from newsletter.feeds.sources import load_posts
from newsletter.runtime.daemon import Daemon
from tests.support.cli import NewsletterCli
from tests.support.feeds import FeedServer, Item, Route, post_html, wordpress_rss
from tests.support.settings import OWNER, make_settings, relay
from tests.support.smtp import SmtpServer

FIRST_POLL = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
LIMIT = 4000  # posts.max_post_bytes of these tests: a normal post is well under it


def _item(number: int) -> Item:
    return Item(
        title=f"Loslaten, deel {number}",
        link=f"https://www.gerritvanderheide.com/loslaten-deel-{number}/",
        guid=f"https://www.gerritvanderheide.com/?p={100 + number}",
        published=FIRST_POLL - timedelta(days=10 - number),
        html=post_html(f"Dit is het begin van deel {number}."),
    )


GUID_2 = _item(2).guid
# How the middle entry is broken, and the reason reported for it.
BAD: dict[str, tuple[dict[str, Any], str]] = {
    "no title": ({"title": ""}, "no title"),
    "no content or summary": ({"html": "", "summary": None}, "no article text"),
    "ftp link": (
        {"link": "ftp://www.gerritvanderheide.com/deel-2"},
        "its link must be an http:// or https:// address, got "
        "'ftp://www.gerritvanderheide.com/deel-2'",
    ),
    "too large": (
        {"html": post_html("Rust. " * 1000)},
        f"larger than {LIMIT:,} bytes (the limit posts.max_post_bytes)",
    ),
}


def _feed(bad: str) -> list[Item]:
    changes, _reason = BAD[bad]
    return [_item(1), replace(_item(2), **changes), _item(3)]


def _settings(*urls: str, **sections: Any) -> Settings:
    posts = {"feeds": urls, "fetch_timeout_seconds": 5.0, "max_post_bytes": LIMIT}
    return make_settings(posts=posts, **sections)


def _slugs(database: Database) -> list[str]:
    with database.session() as session:
        return [entry.slug for entry in post_queue.entries(session)]


def _feed_row(database: Database, url: str) -> Feed:
    with database.session() as session:
        return session.scalars(select(Feed).where(Feed.url == url)).one()


@pytest.mark.parametrize("bad", BAD, ids=list(BAD))
def test_the_good_entries_are_queued_and_the_bad_one_is_reported(
    database: Database, feed_server: FeedServer, bad: str
) -> None:
    feed_server.routes["/feed/"] = Route(wordpress_rss(_feed(bad)))
    url = feed_server.url("/feed/")
    settings = _settings(url)

    [report] = poll_feeds(database, settings, FIRST_POLL)
    assert (report.added, report.updated, report.unchanged, report.error) == (2, 0, 0, None)
    [skipped] = report.skipped
    assert (skipped.number, skipped.guid, skipped.reason) == (2, GUID_2, BAD[bad][1])
    [line] = report.skip_lines()
    assert line.startswith(f"{url}: entry 2 (") and GUID_2 in line
    assert line.endswith(f" skipped: {BAD[bad][1]}") and "\n" not in line
    assert _slugs(database) == ["loslaten-deel-1", "loslaten-deel-3"]
    feed = _feed_row(database, url)
    assert (feed.failing_since, feed.last_error, feed.last_success_at) == (None, None, FIRST_POLL)

    # The next poll (no validators, so the feed is read again) says the same, adds nothing.
    [again] = poll_feeds(database, settings, FIRST_POLL + timedelta(hours=25))
    assert (again.added, again.updated, again.unchanged, again.error) == (0, 0, 2, None)
    assert again.skipped == report.skipped
    assert _slugs(database) == ["loslaten-deel-1", "loslaten-deel-3"]
    with database.session() as session:
        assert session.scalar(select(PostRow.id).where(PostRow.guid == GUID_2)) is None
        # A day of polls with a skipped entry is no failing feed: the owner is not alerted.
        assert state.failing_for(session, (url,), FIRST_POLL + timedelta(hours=25), 24) == []

    # The blog fixes the post: the next poll adds it, and reports nothing skipped.
    feed_server.routes["/feed/"] = Route(wordpress_rss([_item(1), _item(2), _item(3)]))
    [fixed] = poll_feeds(database, settings, FIRST_POLL + timedelta(hours=26))
    assert (fixed.added, fixed.unchanged, fixed.skipped) == (1, 2, ())
    assert _slugs(database) == ["loslaten-deel-1", "loslaten-deel-2", "loslaten-deel-3"]


def test_a_modified_feed_is_reported_afresh_and_a_304_reports_nothing(
    database: Database, feed_server: FeedServer
) -> None:
    feed_server.routes["/feed/"] = Route(wordpress_rss(_feed("no title")), etag='"v1"')
    settings = _settings(feed_server.url("/feed/"))
    [first] = poll_feeds(database, settings, FIRST_POLL)
    assert [entry.number for entry in first.skipped] == [2]
    [unchanged] = poll_feeds(database, settings, FIRST_POLL + timedelta(hours=1))
    assert unchanged.not_modified and unchanged.skipped == ()
    assert unchanged.to_json()["skipped"] == []
    assert _slugs(database) == ["loslaten-deel-1", "loslaten-deel-3"]


def test_an_entry_that_was_queued_and_then_broke_keeps_its_queued_post(
    database: Database, feed_server: FeedServer
) -> None:
    feed_server.routes["/feed/"] = Route(wordpress_rss([_item(1), _item(2), _item(3)]))
    settings = _settings(feed_server.url("/feed/"))
    poll_feeds(database, settings, FIRST_POLL)
    feed_server.routes["/feed/"] = Route(wordpress_rss(_feed("no content or summary")))
    [report] = poll_feeds(database, settings, FIRST_POLL + timedelta(hours=1))
    assert (report.added, report.updated, report.unchanged) == (0, 0, 2)
    assert [entry.reason for entry in report.skipped] == ["no article text"]
    with database.session() as session:
        post = post_queue.document(post_queue.get(session, "loslaten-deel-2"))
    assert "Dit is het begin van deel 2." in str(post.blocks)


def test_posts_fetch_prints_the_skipped_entry_and_exits_0(
    database_url: str, tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.routes["/feed/"] = Route(wordpress_rss(_feed("no title")))
    url = feed_server.url("/feed/")
    newsletter = NewsletterCli(database_url, tmp_path)
    env = {
        "NEWSLETTER_POSTS__FEEDS": json.dumps([url]),
        "NEWSLETTER_POSTS__MAX_POST_BYTES": str(LIMIT),
    }
    warning = f"warning: feed {url}: entry 2 ({GUID_2}) skipped: no title\n"

    result = newsletter("posts", "fetch", **env)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{url}: 2 added, 0 updated, 0 unchanged, 1 skipped\n"
    assert result.stderr == warning

    result = newsletter("posts", "fetch", "--json", **env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {
            "url": url,
            "added": 0,
            "updated": 0,
            "unchanged": 2,
            "not_modified": False,
            "error": None,
            "skipped": [
                {
                    "entry": 2,
                    "title": None,
                    "guid": GUID_2,
                    "link": "https://www.gerritvanderheide.com/loslaten-deel-2/",
                    "reason": "no title",
                }
            ],
        }
    ]
    assert result.stderr == warning
    listed = json.loads(newsletter.ok("posts", "list", "--json"))
    assert [post["slug"] for post in listed] == ["loslaten-deel-1", "loslaten-deel-3"]


def test_the_daemon_logs_each_skipped_entry_and_tells_the_owner_nothing(
    database: Database,
    feed_server: FeedServer,
    smtp_server: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    feed_server.routes["/feed/"] = Route(wordpress_rss(_feed("no content or summary")))
    url = feed_server.url("/feed/")
    settings = _settings(url, newsletter={"owner_address": OWNER}, smtp=relay(smtp_server.port))
    now = FIRST_POLL
    daemon = Daemon(settings, database, clock=lambda: now)
    caplog.set_level(logging.WARNING, logger="newsletter")
    for hours in (0, 25):
        now = FIRST_POLL + timedelta(hours=hours)
        daemon.watch_job()
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    expected = (
        f"feed {url}: entry 2 ('Loslaten, deel 2', {GUID_2}) skipped: no article text; "
        "its other posts were read"
    )
    assert lines == [expected, expected]
    assert smtp_server.handler.received == []
    assert _slugs(database) == ["loslaten-deel-1", "loslaten-deel-3"]


def test_a_hand_import_of_the_same_feed_still_refuses_it_whole(tmp_path: Path) -> None:
    """``posts import`` writes all or nothing, so there the bad entry stops the file."""
    path = tmp_path / "feed.rss"
    path.write_bytes(wordpress_rss(_feed("no title")))
    with pytest.raises(ContentError, match=re.escape(f"feed entry 2 ({GUID_2}): no title")):
        load_posts(str(path))
    assert SkippedEntry(2, None, None, None, "no title").describe() == "entry 2"
