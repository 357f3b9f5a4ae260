"""Two daemons polling at the same moment, against SQLite and PostgreSQL.

Each daemon polls the loopback feed server with the product's ``poll_feeds`` through an
engine of its own. The moment is chosen, not hoped for: a test-only hook on the first
daemon's engine (SQLAlchemy's ``before_cursor_execute`` event) stops it at a chosen
statement, after it has looked and found a row new, and runs the second daemon's whole
poll in another thread then. The second one either commits in that gap (the
first one's insert must then cope with the row it did not see) or is made to wait by the
first one's transaction (the hook lets the first go on after a few seconds). Nothing in the
product waits for the test.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from newsletter.config import Settings
from newsletter.db.database import Database, open_database
from newsletter.db.models import Feed
from newsletter.db.models import Post as PostRow
from newsletter.feeds.poll import FeedReport, poll_feeds
from tests.support.feeds import FeedServer, Item, Route, post_html, wordpress_rss
from tests.support.settings import make_settings

NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
GAP_SECONDS = 3  # how long the first daemon waits in its gap for the second one
# Where the first daemon stops: the first statement that starts so.
GAPS = {
    "making the feed's row": "INSERT INTO feeds ",
    "looking for a free slug": "SELECT posts.slug \nFROM posts \nWHERE posts.slug LIKE",
    "adding a post": "INSERT INTO posts ",
}


def _item(number: int, title: str) -> Item:
    return Item(
        title=title,
        link=f"https://www.gerritvanderheide.com/bericht-{number}/",
        guid=f"https://www.gerritvanderheide.com/?p={100 + number}",
        published=NOW - timedelta(days=number),
        html=post_html(f"Dit is bericht {number}."),
    )


def _settings(url: str) -> Settings:
    return make_settings(posts={"feeds": (url,), "fetch_timeout_seconds": 10.0})


def _poll(database_url: str, settings: Settings, outcome: list[Any]) -> None:
    own = open_database(database_url)
    try:
        outcome.append(poll_feeds(own, settings, NOW))
    except BaseException as exc:
        outcome.append(exc)
    finally:
        own.dispose()


def _poll_in_the_gap(
    database_url: str, first: Settings, second: Settings, gap_at: str
) -> tuple[FeedReport, FeedReport]:
    """``first`` polled, and ``second`` polled while the first is at its first statement
    that starts with ``gap_at``; both reports, in that order. Neither poll may raise."""
    outcomes: tuple[list[Any], list[Any]] = ([], [])
    other = threading.Thread(target=_poll, args=(database_url, second, outcomes[1]))

    def gap(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if other.ident is None and statement.startswith(gap_at):
            other.start()
            other.join(timeout=GAP_SECONDS)

    own = open_database(database_url)
    event.listen(own.engine, "before_cursor_execute", gap)
    try:
        outcomes[0].append(poll_feeds(own, first, NOW))
    except BaseException as exc:  # said below, once the other poll is done too
        outcomes[0].append(exc)
    finally:
        own.dispose()
    other.join(timeout=60)
    assert other.ident is not None, f"the first poll never ran {gap_at!r}"
    reports = []
    for outcome in outcomes:
        [result] = outcome
        if isinstance(result, BaseException):
            raise AssertionError(f"a poll raised {result!r}") from result
        [report] = result
        reports.append(report)
    return reports[0], reports[1]


def _posts(database: Database) -> list[tuple[str, str | None]]:
    with database.session() as session:
        rows = session.execute(select(PostRow.slug, PostRow.guid).order_by(PostRow.slug))
        return [(slug, guid) for slug, guid in rows]


def _counts(*reports: FeedReport) -> list[tuple[int, int, int, str | None]]:
    return [(r.added, r.updated, r.unchanged, r.error) for r in reports]


@pytest.mark.parametrize("gap", GAPS)
def test_two_daemons_polling_one_feed_at_once_queue_each_post_once(
    database: Database, database_url: str, feed_server: FeedServer, gap: str
) -> None:
    """Two of the three items have titles that make the same slug: both are queued, once.

    Both daemons poll the feed for the first time, so both make its row too.
    """
    items = [_item(1, "Rust in je hoofd"), _item(2, "Rust in je hoofd!"), _item(3, "Loslaten")]
    feed_server.routes["/feed/"] = Route(wordpress_rss(items))
    settings = _settings(feed_server.url("/feed/"))

    first, second = _poll_in_the_gap(database_url, settings, settings, GAPS[gap])

    # One daemon added the three posts; the other found them there and changed nothing.
    assert sorted(_counts(first, second)) == [(0, 0, 3, None), (3, 0, 0, None)]
    assert _posts(database) == [
        ("loslaten", items[2].guid),
        ("rust-in-je-hoofd", items[0].guid),
        ("rust-in-je-hoofd-2", items[1].guid),
    ]
    with database.session() as session:
        [feed] = session.scalars(select(Feed))
        assert feed.failing_since is None and feed.last_success_at == NOW


def test_two_feeds_whose_new_posts_make_the_same_slug_at_once_both_queue_theirs(
    database: Database, database_url: str, feed_server: FeedServer
) -> None:
    """Each daemon picks the free slug ``rust-in-je-hoofd``; one gets it, the other the next."""
    feed_server.routes["/een/"] = Route(wordpress_rss([_item(1, "Rust in je hoofd")]))
    feed_server.routes["/twee/"] = Route(wordpress_rss([_item(2, "Rust in je hoofd")]))
    one, two = (_settings(feed_server.url(path)) for path in ("/een/", "/twee/"))

    first, second = _poll_in_the_gap(database_url, one, two, GAPS["adding a post"])

    assert _counts(first, second) == [(1, 0, 0, None), (1, 0, 0, None)]
    # Which one got which slug depends on the database: on PostgreSQL the second daemon
    # adds its post in the gap, on SQLite it waits for the first one's write lock.
    posts = _posts(database)
    assert [slug for slug, _ in posts] == ["rust-in-je-hoofd", "rust-in-je-hoofd-2"]
    assert {guid for _, guid in posts} == {_item(1, "").guid, _item(2, "").guid}
