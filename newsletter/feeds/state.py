"""What the polls learned about each configured feed: validators, first poll, failures.

Kept per feed URL in the database (not in memory), so a restarted daemon still sends a
conditional GET, still knows which posts are new since the feed was added, and still
knows that a feed has been failing since yesterday. The model, ``Feed``, is with the
others in :mod:`newsletter.db.models`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.db.database import insert_unless_taken
from newsletter.db.models import Feed


def feed_for(session: Session, url: str, now: datetime) -> Feed:
    """The feed's row, made at its first poll (which is when the feed counts as added).

    Two daemons polling a new feed at the same moment make one row: the second one's
    insert does nothing, and it reads the first one's row.
    """
    query = select(Feed).where(Feed.url == url)
    row = session.scalars(query).one_or_none()
    if row is None:
        row = insert_unless_taken(session, Feed, {"url": url, "added_at": now})
    return row if row is not None else session.scalars(query).one()


def record_success(
    feed: Feed, now: datetime, *, etag: str | None, last_modified: str | None
) -> None:
    feed.etag, feed.last_modified = etag, last_modified
    feed.last_polled_at = feed.last_success_at = now
    feed.failing_since = None
    feed.last_error = None


def record_failure(feed: Feed, now: datetime, error: str) -> None:
    feed.last_polled_at = now
    feed.last_error = error
    if feed.failing_since is None:
        feed.failing_since = now


def of_urls(session: Session, urls: tuple[str, ...]) -> dict[str, Feed]:
    """The rows of these feeds by URL; a feed not polled yet has none."""
    return {feed.url: feed for feed in session.scalars(select(Feed).where(Feed.url.in_(urls)))}


def failing_for(session: Session, urls: tuple[str, ...], now: datetime, hours: float) -> list[Feed]:
    """The configured feeds whose polls have all failed for at least ``hours``."""
    if not urls:
        return []
    query = select(Feed).where(
        Feed.url.in_(urls),
        Feed.failing_since.is_not(None),
        Feed.failing_since <= now - timedelta(hours=hours),
    )
    return list(session.scalars(query.order_by(Feed.url)))
