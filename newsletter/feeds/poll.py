"""Polling the blog's feeds into the post queue: ``posts fetch`` and the daemon's polls.

Each configured feed is fetched (conditionally), parsed and imported on its own, so one
broken feed neither stops the others nor touches the queue: its failure is one log line,
recorded on the feed (the owner hears when it lasts a day), and the next poll tries again.
A feed's password (``https://user:password@host/``) shows as ``***`` in all of that.

One bad entry is not a broken feed: an entry without a title or text (say) is skipped and
reported, the feed's other posts are queued, and the feed counts as read. Two daemons
polling the same feed at the same moment add each new post once (see
:func:`newsletter.feeds.queueing.import_feed_items`).

The doctor reads a feed with this module's :func:`read_feed` too, so a feed it passes is a
feed the polls read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from newsletter.config import PostsSection, Settings, hide_password
from newsletter.db.database import Database
from newsletter.errors import NewsletterError
from newsletter.feeds import state
from newsletter.feeds.entries import FeedEntries, SkippedEntry, parse_feed_items
from newsletter.feeds.fetch import Fetched, fetch_feed
from newsletter.feeds.queueing import import_feed_items

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedReport:
    """What one poll did with one feed; ``error`` is set when it failed.

    ``url`` is the feed's address as it is shown, with its password hidden. ``skipped``
    are the entries of a feed that was read that could not be posts; they do not make the
    feed failed.
    """

    url: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    not_modified: bool = False
    error: str | None = None
    skipped: tuple[SkippedEntry, ...] = ()

    def skip_lines(self) -> list[str]:
        """One line per skipped entry: ``URL: entry 2 ('Titel', guid) skipped: no text``."""
        return [f"{self.url}: {e.describe()} skipped: {e.reason}" for e in self.skipped]

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "not_modified": self.not_modified,
            "error": self.error,
            "skipped": [entry.to_json() for entry in self.skipped],
        }


def poll_feeds(database: Database, settings: Settings, now: datetime) -> list[FeedReport]:
    """Fetch every configured feed once and bring the queue up to date.

    A feed's own failure is never raised, only recorded and reported: the caller says it
    in its own way (the CLI as ``error:`` lines, the daemon as log lines).
    """
    return [_poll(database, settings, url, now) for url in settings.posts.feeds]


def read_feed(
    url: str,
    posts: PostsSection,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
) -> tuple[Fetched, FeedEntries | None]:
    """Fetch the feed and read its entries as the polls do: strictly, with ``[posts]`` limits.

    The entries are None when the blog answered "304 Not Modified" (to the validators
    ``etag`` and ``last_modified`` of its last good response). Raises
    :class:`NewsletterError` for a feed that cannot be fetched or is not a readable feed;
    no database is touched.
    """
    fetched = fetch_feed(
        url, etag=etag, last_modified=last_modified, read_timeout=posts.fetch_timeout_seconds
    )
    if fetched.body is None:
        return fetched, None
    entries = parse_feed_items(
        fetched.body,
        source=hide_password(url),
        max_entry_bytes=posts.max_post_bytes,
        strict=True,
    )
    return fetched, entries


def _poll(database: Database, settings: Settings, url: str, now: datetime) -> FeedReport:
    shown = hide_password(url)
    with database.session() as session:
        feed = state.feed_for(session, url, now)
        etag, last_modified = feed.etag, feed.last_modified
    try:
        # The network and the parser run outside any transaction: a slow blog holds no lock.
        fetched, entries = read_feed(url, settings.posts, etag=etag, last_modified=last_modified)
        with database.session() as session:
            feed = state.feed_for(session, url, now)
            results = [] if entries is None else import_feed_items(session, feed.id, entries.items)
            state.record_success(feed, now, etag=fetched.etag, last_modified=fetched.last_modified)
    except NewsletterError as exc:
        error = str(exc) if str(exc).startswith(shown) else f"{shown}: {exc}"
        with database.session() as session:
            state.record_failure(state.feed_for(session, url, now), now, error)
        return FeedReport(shown, error=error)
    actions = [action for _, action in results]
    report = FeedReport(
        shown,
        added=actions.count("added"),
        updated=actions.count("updated"),
        unchanged=len(actions) - actions.count("added") - actions.count("updated"),
        not_modified=entries is None,
        skipped=() if entries is None else entries.skipped,
    )
    if report.added or report.updated:
        log.info("feed %s: %d added, %d updated", shown, report.added, report.updated)
    return report
