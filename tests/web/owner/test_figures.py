"""The readers per week of the owner's overview against a seeded history of 20 editions,
whose every number is known from how it was seeded (tests/support/history.py)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from newsletter.db.database import Database
from newsletter.db.models import Event, Subscriber, SubscriberStatus
from newsletter.web.owner import figures
from tests.support.bulk import LargeList, seed_large_list
from tests.support.history import History

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def test_active_readers_per_week_follow_the_history(database: Database, history: History) -> None:
    with database.session() as session:
        weeks = figures.reader_weeks(session, history.base, AMSTERDAM, 26)
        active_now = session.scalar(
            select(func.count()).where(Subscriber.status == SubscriberStatus.ACTIVE)
        )

    assert len(weeks) == 26
    assert weeks[-1].active == active_now == history.active_at(history.base)
    for week in weeks:
        start = datetime.combine(week.start, datetime.min.time(), AMSTERDAM)
        end = start + timedelta(weeks=1)
        assert week.active == history.active_at(min(end, history.base)), week.label
        assert week.joined == sum(start <= r.joined_at < end for r in history.readers)
        left = [r for r in history.readers if r.left_at and start <= r.left_at < end]
        assert week.unsubscribed == sum(r.left_as == SubscriberStatus.UNSUBSCRIBED for r in left)
        assert week.dropped == sum(r.left_as != SubscriberStatus.UNSUBSCRIBED for r in left)
    assert sum(week.joined for week in weeks) > 0
    assert sum(week.dropped for week in weeks) > 0
    assert sum(week.unsubscribed for week in weeks) > 0


def test_the_sends_refusals_are_counted_as_dropped_in_their_week(database: Database) -> None:
    """The database counts the send's refusals (four editions, ten each); a bounce
    from elsewhere counts only when its details say it took an active reader."""
    now = datetime(2026, 11, 25, 12, tzinfo=AMSTERDAM)  # a Wednesday: the send's hour fits
    seed_large_list(database, LargeList(1000, weeks=4, returns_every=100), now=now)
    with database.session() as session:
        earlier = now - timedelta(days=9)  # in a week of its own
        for kind, detail in (
            ("bounce", {"status_before": "active", "status_after": "bounced"}),
            ("complaint", {"status_before": "bounced"}),
        ):
            session.add(Event(occurred_at=earlier, kind=kind, actor="mailbox", detail=detail))
    with database.session() as session:
        weeks = figures.reader_weeks(session, now, AMSTERDAM, 6)
        events = session.scalars(select(Event).where(Event.kind.in_(figures.DROPPED))).all()
    expected: Counter[date] = Counter()
    for event in events:
        detail = event.detail or {}
        if event.actor == "sender" or detail.get("status_before") == "active":
            day = event.occurred_at.astimezone(AMSTERDAM).date()
            expected[day - timedelta(days=day.weekday())] += 1

    assert sum(expected.values()) == 4 * 10 + 1
    assert {week.start: week.dropped for week in weeks if week.dropped} == expected
