"""What comes next and whether the unattended parts are well: the next slot and its post,
the queue, the edition waiting for the owner (or the owner's hold on the next one), the
feeds' last polls, pending alerts, and the readers most recently dropped by a bounce (the
owner may bring one back).

Read only, from the places that define each: the slot from :mod:`newsletter.delivery.slots`,
the send order from :mod:`newsletter.db.post_queue`, the feeds' state from
:mod:`newsletter.feeds.state`, the last full ``newsletter doctor`` from the event log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.config import Settings, hide_password
from newsletter.db import owner_hold, post_queue
from newsletter.db.events import DoctorRun, last_doctor_run
from newsletter.db.models import (
    AlertStatus,
    Edition,
    EditionStatus,
    Event,
    OwnerAlert,
    Subscriber,
    SubscriberStatus,
)
from newsletter.db.post_queue import QueueEntry
from newsletter.delivery.slots import next_slot
from newsletter.feeds import state
from newsletter.returns.report import Drop, what_dropped

QUEUE_LENGTH = 10
DROPPED_SHOWN = 10


@dataclass(frozen=True)
class FeedHealth:
    url: str
    last_polled_at: datetime | None
    last_success_at: datetime | None
    failing_since: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class WaitingEdition:
    """The edition made but not sent yet: held for the owner, or a draft (in its review
    time, or released and waiting for the daemon)."""

    id: int
    subject: str
    status: str
    hold_reason: str | None
    send_after: datetime | None


@dataclass(frozen=True)
class DroppedReader:
    """A reader the returns dropped as ``bounced``, with why: the owner may bring them back."""

    email: str
    drop: Drop


@dataclass(frozen=True)
class Outlook:
    next_slot: datetime | None
    queue: list[QueueEntry]
    waiting: WaitingEdition | None
    feeds: list[FeedHealth]
    alerts: list[OwnerAlert]
    dropped: list[DroppedReader]
    doctor: DoctorRun | None
    owner_hold: bool  # the next weekly edition is held when made

    @property
    def next_post(self) -> QueueEntry | None:
        return self.queue[0] if self.queue else None


def outlook(session: Session, settings: Settings, now: datetime) -> Outlook:
    queued = [entry for entry in post_queue.entries(session) if entry.status == "queued"]
    rows = state.of_urls(session, settings.posts.feeds)
    feeds = [
        FeedHealth(
            hide_password(url),
            row.last_polled_at if row else None,
            row.last_success_at if row else None,
            row.failing_since if row else None,
            hide_password(row.last_error) if row and row.last_error else None,
        )
        for url, row in ((url, rows.get(url)) for url in settings.posts.feeds)
    ]
    alerts = session.scalars(
        select(OwnerAlert)
        .where(OwnerAlert.status.in_([AlertStatus.PENDING, AlertStatus.CLAIMED]))
        .order_by(OwnerAlert.id)
    )
    return Outlook(
        next_slot(settings.schedule, now),
        queued[:QUEUE_LENGTH],
        waiting_edition(session),
        feeds,
        list(alerts),
        recently_dropped(session),
        last_doctor_run(session),
        owner_hold.pending(session),
    )


def recently_dropped(session: Session) -> list[DroppedReader]:
    """The readers dropped as ``bounced`` most recently (and still so), newest first."""
    latest = (
        select(Event.subscriber_id, func.max(Event.id).label("last"))
        .where(Event.kind == "bounce", Event.subscriber_id.is_not(None))
        .group_by(Event.subscriber_id)
        .subquery()
    )
    readers = session.execute(
        select(Subscriber.id, Subscriber.email)
        .join(latest, latest.c.subscriber_id == Subscriber.id)
        .where(Subscriber.status == SubscriberStatus.BOUNCED, Subscriber.email.is_not(None))
        .order_by(latest.c.last.desc())
        .limit(DROPPED_SHOWN)
    )
    found = []
    for subscriber_id, email in list(readers):
        drop = what_dropped(session, subscriber_id)
        if drop is not None and email is not None:
            found.append(DroppedReader(email, drop))
    return found


def waiting_edition(session: Session) -> WaitingEdition | None:
    """The newest edition that is held or a draft, if any."""
    edition = session.scalar(
        select(Edition)
        .where(Edition.status.in_([EditionStatus.HELD, EditionStatus.DRAFT]))
        .order_by(Edition.id.desc())
        .limit(1)
    )
    if edition is None:
        return None
    return WaitingEdition(
        edition.id, edition.subject, edition.status, edition.hold_reason, edition.send_after
    )
