"""What ``newsletter status`` reports: schedule, queue, editions, backlog, readers, daemons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.config import Settings, hide_password
from newsletter.db import owner_hold, post_queue, states
from newsletter.db.database import Database
from newsletter.db.models import Delivery, DeliveryStatus, Edition, Feed
from newsletter.db.models import Post as PostRow
from newsletter.db.post_queue import QueueEntry
from newsletter.db.subscribers import reader_counts
from newsletter.delivery.editions import describe_edition, due_now, waiting_for_limits
from newsletter.delivery.slots import due_slot, next_slot
from newsletter.feeds import state
from newsletter.runtime.empty_slots import empty_slot_weeks
from newsletter.runtime.presence import running_daemons


def collect_status(database: Database, settings: Settings, now: datetime) -> dict[str, Any]:
    zone = ZoneInfo(settings.schedule.timezone)
    upcoming = next_slot(settings.schedule, now)
    last = due_slot(settings.schedule, now)
    with database.session() as session:
        entries = post_queue.entries(session)
        edition = _latest_edition(session, database, settings, now)
        deferred = session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.status == DeliveryStatus.DEFERRED)
        )
        next_post = post_queue.next_unsent(session)
        feed_rows = state.of_urls(session, settings.posts.feeds)
        last_edition = (
            session.scalar(select(Edition.id).where(Edition.week_key == last.week_key))
            if last.week_key
            else None
        )
        last_empty = last.week_key is not None and last.week_key in empty_slot_weeks(session)
        readers = _readers_json(session, now)
        held_by_owner = owner_hold.pending(session)
    feeds = [_feed_json(url, feed_rows.get(url)) for url in settings.posts.feeds]
    notes = []
    if last.week_key and last_edition is None and last_empty:
        notes.append(f"week {last.week_key}: no edition, the queue was empty at the slot")
    if next_post is None and upcoming is not None:
        notes.append("the queue is empty: the next slot makes no edition unless a post arrives")
    if held_by_owner:
        notes.append(
            "the owner holds the next edition: the slot makes it held; release it at /beheer "
            "or with `newsletter editions release N`"
        )
    notes += [
        f"feed failing since {feed['failing_since']}: {feed['last_error']}"
        for feed in feeds
        if feed["failing_since"]
    ]
    return {
        "next_run": {
            "local": upcoming.astimezone(zone).isoformat() if upcoming else None,
            "utc": upcoming.astimezone(UTC).isoformat() if upcoming else None,
            "timezone": settings.schedule.timezone,
            "held_by_owner": held_by_owner,
        },
        "queue": _queue_json(entries, next_post),
        "edition": edition,
        "deferred_backlog": int(deferred or 0),
        "readers": readers,
        "daemons_running": running_daemons(database),
        "last_slot": {
            "week": last.week_key,
            "edition": last_edition,
            "queue_was_empty": bool(last_empty and last_edition is None),
        },
        "feeds": feeds,
        "warnings": notes,
    }


def _latest_edition(
    session: Session, database: Database, settings: Settings, now: datetime
) -> dict[str, Any] | None:
    """The newest edition as ``editions show --json`` has it: counts, what a sender could
    take now (``due_now``), and the shared limit it waits for, if any."""
    latest = session.scalar(select(Edition.id).order_by(Edition.id.desc()).limit(1))
    if not latest:
        return None
    info = describe_edition(session, latest)
    waiting = waiting_for_limits(database.engine, settings.smtp, info)
    return {
        **info.to_json(),
        "due_now": due_now(session, latest, now, states.lease_of(settings.smtp)),
        "waiting": waiting.to_json() if waiting else None,
    }


def _readers_json(session: Session, now: datetime) -> dict[str, int]:
    """Who the next edition goes to, who is on a pause, and how many active readers have
    no proof of consent on record (imported, or from before it was kept)."""
    return asdict(reader_counts(session, now))


def _queue_json(entries: Sequence[QueueEntry], next_post: PostRow | None) -> dict[str, Any]:
    return {
        "queued": sum(1 for e in entries if e.status == "queued"),
        "skipped": sum(1 for e in entries if e.status == "skipped"),
        "sent": sum(1 for e in entries if e.status == "sent"),
        "next": next_post.slug if next_post else None,
    }


def _feed_json(url: str, feed: Feed | None) -> dict[str, Any]:
    def moment(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    # The error is hidden again too: it may have been recorded before passwords were.
    return {
        "url": hide_password(url),
        "last_success_at": moment(feed.last_success_at) if feed else None,
        "failing_since": moment(feed.failing_since) if feed else None,
        "last_error": hide_password(feed.last_error) if feed and feed.last_error else None,
    }
