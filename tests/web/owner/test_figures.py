"""The readers per week of the owner's overview against a seeded history of 20 editions,
whose every number is known from how it was seeded (tests/support/history.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from newsletter.db.database import Database
from newsletter.db.models import Subscriber, SubscriberStatus
from newsletter.web.owner import figures
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
