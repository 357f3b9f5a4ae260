"""What the polls remember per feed URL, in the database: one row per feed, and since when
its polls have all failed (the owner is told after a day of failures, not after one)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newsletter.db.database import Database
from newsletter.feeds import state

URL = "https://blog.example/feed/"
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def test_the_first_poll_makes_the_row_and_later_polls_find_it(database: Database) -> None:
    with database.session() as session:
        first = state.feed_for(session, URL, MONDAY)
        again = state.feed_for(session, URL, MONDAY + timedelta(hours=1))
        assert again.id == first.id
        assert state.of_urls(session, (URL, "https://ander.example/feed/")) == {URL: first}
    with database.session() as session:
        assert state.feed_for(session, URL, MONDAY + timedelta(days=1)).id == first.id


def test_failing_since_is_the_first_failure_and_a_success_clears_it(database: Database) -> None:
    with database.session() as session:
        feed = state.feed_for(session, URL, MONDAY)
        state.record_failure(feed, MONDAY, "HTTP 500")
        state.record_failure(feed, MONDAY + timedelta(hours=5), "HTTP 502")
        assert feed.failing_since == MONDAY and feed.last_error == "HTTP 502"
        state.record_success(feed, MONDAY + timedelta(hours=6), etag='"v2"', last_modified=None)
        assert feed.failing_since is None and feed.last_error is None
        assert feed.etag == '"v2"' and feed.last_success_at == MONDAY + timedelta(hours=6)


def test_a_feed_counts_as_failing_only_after_the_hours_given(database: Database) -> None:
    with database.session() as session:
        state.record_failure(state.feed_for(session, URL, MONDAY), MONDAY, "HTTP 500")
        session.commit()
    with database.session() as session:
        assert state.failing_for(session, (URL,), MONDAY + timedelta(hours=23), 24) == []
        (failing,) = state.failing_for(session, (URL,), MONDAY + timedelta(hours=24), 24)
        assert failing.url == URL
        assert state.failing_for(session, (), MONDAY + timedelta(days=7), 24) == []
