"""The figures of the owner's area, read from the database: readers per week, editions,
the queue, and the health of what runs unattended.

Read only. Each figure comes from the one place that already defines it: an edition's
tally from :mod:`newsletter.delivery.editions`, what came back from
:mod:`newsletter.returns.report`, the send order from :mod:`newsletter.db.post_queue`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.db.models import BounceReport, Edition, Event, Subscriber
from newsletter.db.states import PUBLISHED
from newsletter.delivery.editions import active_subscriber_count, describe_edition
from newsletter.returns.report import edition_returns

# Mailbox providers' limits for bulk senders, in percent of the mail sent: Gmail and Yahoo
# want spam complaints under 0.3% (their 2024 sender requirements); Amazon SES puts an
# account under review from 5% bounces (hard ones; soft ones do not count).
COMPLAINT_LIMIT_PERCENT = 0.3
HARD_BOUNCE_LIMIT_PERCENT = 5.0

# Events that make a reader active, and that end it (a bounce or complaint only when the
# reader was active before it: the send marks only active readers, the returns part says).
JOINED = ("subscribe", "confirm", "resubscribe", "reactivate")
UNSUBSCRIBED = ("unsubscribe",)
DROPPED = ("bounce", "complaint")
SENDER_KIND = "sender"  # the returns issue's verdict for mail refused because of *us*


@dataclass(frozen=True)
class ReaderWeek:
    """One week (Monday, local time) of the reader curve."""

    start: date
    active: int
    joined: int
    unsubscribed: int
    dropped: int

    @property
    def label(self) -> str:
        year, week, _ = self.start.isocalendar()
        return f"{year}-W{week:02d}"


def reader_weeks(session: Session, now: datetime, zone: tzinfo, weeks: int) -> list[ReaderWeek]:
    """The last ``weeks`` weeks, oldest first, each with its active readers at the end of
    the week. The curve is anchored at today's count and walked back through the event
    log (a week's joins undone, its leavers put back), so the last point is exact even
    when readers were imported in bulk, which writes no events."""
    today = now.astimezone(zone).date()
    this_monday = today - timedelta(days=today.weekday())
    mondays = [this_monday - timedelta(weeks=back) for back in reversed(range(weeks))]
    first = datetime.combine(mondays[0], datetime.min.time(), zone)
    counts = _changes_per_week(session, first, zone)
    active = active_subscriber_count(session)
    result: list[ReaderWeek] = []
    for monday in reversed(mondays):
        joined = counts["joined", monday]
        left = counts["unsubscribed", monday]
        dropped = counts["dropped", monday]
        result.append(ReaderWeek(monday, active, joined, left, dropped))
        active = active - joined + left + dropped
    return result[::-1]


def _changes_per_week(session: Session, since: datetime, zone: tzinfo) -> Counter[tuple[str, date]]:
    rows = session.execute(
        select(Event.occurred_at, Event.kind, Event.actor, Event.detail).where(
            Event.occurred_at >= since, Event.kind.in_((*JOINED, *UNSUBSCRIBED, *DROPPED))
        )
    )
    counts: Counter[tuple[str, date]] = Counter()
    for occurred_at, kind, actor, detail in rows:
        day = occurred_at.astimezone(zone).date()
        monday = day - timedelta(days=day.weekday())
        if kind in JOINED:
            counts["joined", monday] += 1
        elif kind in UNSUBSCRIBED:
            counts["unsubscribed", monday] += 1
        elif _took_active_reader(actor, detail or {}):
            counts["dropped", monday] += 1
    return counts


def _took_active_reader(actor: str, detail: dict[str, Any]) -> bool:
    if actor == "sender":
        return True  # the send marks only readers who are active (see delivery.outcomes)
    return detail.get("status_before") == "active" and detail.get("status_after") != "active"


@dataclass(frozen=True)
class EditionFigures:
    """One edition as the overview and the edition page show it."""

    id: int
    subject: str
    post_slug: str
    status: str
    started_at: datetime | None
    recipients: int
    sent: int
    deferred: int
    failed: int
    hard: int
    soft: int
    sender: int
    complaints: int
    unsubscribes: int

    @property
    def in_archive(self) -> bool:
        """Whether the archive shows it (``/archive/{post_slug}``)."""
        return self.status in PUBLISHED

    @property
    def hard_percent(self) -> float:
        return _percent(self.hard, self.recipients)

    @property
    def complaint_percent(self) -> float:
        return _percent(self.complaints, self.recipients)


def _percent(part: int, whole: int) -> float:
    return 100 * part / whole if whole else 0.0


def edition_figures(session: Session, edition_id: int) -> EditionFigures:
    """The figures of one edition (``NotFoundError`` when there is none)."""
    info = describe_edition(session, edition_id)
    tally = info.tally()
    returns = edition_returns(session, edition_id)
    return EditionFigures(
        id=info.id,
        subject=info.subject,
        post_slug=info.post_slug,
        status=info.status,
        started_at=info.started_at,
        recipients=info.recipients,
        sent=tally["sent"],
        deferred=tally["deferred"],
        failed=tally["failed"],
        hard=returns.hard,
        soft=returns.soft,
        sender=sender_rejections(session, edition_id),
        complaints=returns.complaints,
        unsubscribes=returns.unsubscribes,
    )


def sender_rejections(session: Session, edition_id: int) -> int:
    """Readers whose mail was refused because of the sender (blocklist, authentication):
    reports of the ``sender`` kind. None exist until the returns part writes that kind."""
    count = session.scalar(
        select(func.count(func.distinct(BounceReport.subscriber_id))).where(
            BounceReport.edition_id == edition_id, BounceReport.result == SENDER_KIND
        )
    )
    return int(count or 0)


def recent_editions(session: Session, limit: int) -> list[EditionFigures]:
    """The last ``limit`` editions, newest first."""
    ids = session.scalars(select(Edition.id).order_by(Edition.id.desc()).limit(limit))
    return [edition_figures(session, edition_id) for edition_id in list(ids)]


@dataclass(frozen=True)
class ReturnedMail:
    """One bounce or complaint of an edition, with its reason, for the edition page."""

    at: datetime | None
    kind: str
    email: str | None
    reason: str


def edition_returned(session: Session, edition_id: int) -> list[ReturnedMail]:
    """The edition's bounces and complaints: the reports that came back later and the
    addresses the relay refused during the send (the ledger's ``bounce`` events)."""
    reports = session.execute(
        select(BounceReport.received_at, BounceReport.result, Subscriber.email, BounceReport.reason)
        .outerjoin(Subscriber, Subscriber.id == BounceReport.subscriber_id)
        .where(BounceReport.edition_id == edition_id, BounceReport.result != "ignored")
        .order_by(BounceReport.id)
    )
    refusals = session.execute(
        select(Event.occurred_at, Subscriber.email, Event.detail)
        .outerjoin(Subscriber, Subscriber.id == Event.subscriber_id)
        .where(Event.kind == "bounce", Event.actor == "sender", Event.edition_id == edition_id)
        .order_by(Event.id)
    )
    return [ReturnedMail(at, kind, email, reason) for at, kind, email, reason in reports] + [
        ReturnedMail(at, str((detail or {}).get("type", "hard")), email, _why(detail or {}))
        for at, email, detail in refusals
    ]


def _why(detail: dict[str, Any]) -> str:
    return str(detail.get("reason") or detail.get("reply") or "")


def domain_figures(session: Session, edition_id: int) -> list[Any] | None:
    """The edition's figures per receiving domain, or None while the returns part does
    not count them (``by_domain`` in :mod:`newsletter.returns.report`, issue 22): the
    edition page then says so. This is the one place to connect it."""
    return None
