"""The readers of the owner's overview, week by week from the event log, and the limits
mailbox providers hold a sender to. An edition's own figures are
:mod:`newsletter.returns.edition_figures` (the weekly report mails the same).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from newsletter.db.models import Event
from newsletter.delivery.editions import active_subscriber_count

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
# The send's own refusals: each took an active reader (the send marks only readers who are
# active, see delivery.outcomes), so they are counted without reading their details.
SENDER = "sender"


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
    counts = _changes_per_week(session, mondays, zone)
    active = active_subscriber_count(session)
    result: list[ReaderWeek] = []
    for monday in reversed(mondays):
        joined = counts["joined", monday]
        left = counts["unsubscribed", monday]
        dropped = counts["dropped", monday]
        result.append(ReaderWeek(monday, active, joined, left, dropped))
        active = active - joined + left + dropped
    return result[::-1]


def _changes_per_week(
    session: Session, mondays: list[date], zone: tzinfo
) -> Counter[tuple[str, date]]:
    """Joins and leavers per week since ``mondays[0]``. The database counts the joins, the
    unsubscribes and the send's refusals per week (a large list has thousands a week);
    the other bounces and the complaints are read one by one, as their details say
    whether they took an active reader."""
    starts = [datetime.combine(monday, datetime.min.time(), zone) for monday in mondays]
    week = case(
        *((Event.occurred_at < start, number) for number, start in enumerate(starts[1:])),
        else_=len(starts) - 1,
    )
    by_send = and_(Event.kind.in_(DROPPED), Event.actor == SENDER)
    counts: Counter[tuple[str, date]] = Counter()
    for number, kind, count in session.execute(
        select(week, Event.kind, func.count())
        .where(
            Event.occurred_at >= starts[0],
            or_(Event.kind.in_((*JOINED, *UNSUBSCRIBED)), by_send),
        )
        .group_by(week, Event.kind)
    ):
        counts[_change(kind), mondays[number]] += count
    for occurred_at, detail in session.execute(
        select(Event.occurred_at, Event.detail).where(
            Event.occurred_at >= starts[0], Event.kind.in_(DROPPED), ~by_send
        )
    ):
        if _took_active_reader(detail or {}):
            day = occurred_at.astimezone(zone).date()
            counts["dropped", day - timedelta(days=day.weekday())] += 1
    return counts


def _change(kind: str) -> str:
    return "joined" if kind in JOINED else "unsubscribed" if kind in UNSUBSCRIBED else "dropped"


def _took_active_reader(detail: dict[str, Any]) -> bool:
    return detail.get("status_before") == "active" and detail.get("status_after") != "active"
