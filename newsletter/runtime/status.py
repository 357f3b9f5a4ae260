"""What ``newsletter status`` reports: schedule, queue, editions, backlog, daemons."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from newsletter.config import Settings
from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.db.models import Delivery, DeliveryStatus, Edition
from newsletter.delivery.editions import describe_edition, waiting_for_limits
from newsletter.runtime.presence import running_daemons
from newsletter.scheduling.slots import next_slot


def collect_status(database: Database, settings: Settings, now: datetime) -> dict[str, Any]:
    zone = ZoneInfo(settings.schedule.timezone)
    upcoming = next_slot(settings.schedule, now)
    with database.session() as session:
        entries = post_queue.entries(session)
        latest = session.scalar(select(Edition.id).order_by(Edition.id.desc()).limit(1))
        edition = None
        if latest:
            info = describe_edition(session, latest)
            waiting = waiting_for_limits(database.engine, settings.smtp, info)
            edition = {**info.to_json(), "waiting": waiting.to_json() if waiting else None}
        deferred = session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.status == DeliveryStatus.DEFERRED)
        )
        next_post = post_queue.next_unsent(session)
    return {
        "next_run": {
            "local": upcoming.astimezone(zone).isoformat() if upcoming else None,
            "utc": upcoming.astimezone(UTC).isoformat() if upcoming else None,
            "timezone": settings.schedule.timezone,
        },
        "queue": {
            "queued": sum(1 for e in entries if e.status == "queued"),
            "skipped": sum(1 for e in entries if e.status == "skipped"),
            "sent": sum(1 for e in entries if e.status == "sent"),
            "next": next_post.slug if next_post else None,
        },
        "edition": edition,
        "deferred_backlog": int(deferred or 0),
        "daemons_running": running_daemons(database),
    }
