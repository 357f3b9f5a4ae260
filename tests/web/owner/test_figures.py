"""The figures of the owner's area against a seeded history of 20 editions, whose every
number is known from how it was seeded (tests/support/history.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from newsletter.db.database import Database
from newsletter.db.models import Subscriber, SubscriberStatus, utcnow
from newsletter.web.owner import figures
from tests.support.history import History, seed_history

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def now() -> datetime:
    return utcnow()


@pytest.fixture
def history(database: Database, now: datetime) -> History:
    return seed_history(database, now)


def test_active_readers_per_week_follow_the_history(
    database: Database, history: History, now: datetime
) -> None:
    with database.session() as session:
        weeks = figures.reader_weeks(session, now, AMSTERDAM, 26)
        active_now = session.scalar(
            select(func.count()).where(Subscriber.status == SubscriberStatus.ACTIVE)
        )

    assert len(weeks) == 26
    assert weeks[-1].active == active_now == history.active_at(now)
    for week in weeks:
        start = datetime.combine(week.start, datetime.min.time(), AMSTERDAM)
        end = start + timedelta(weeks=1)
        assert week.active == history.active_at(min(end, now)), week.label
        assert week.joined == sum(start <= r.joined_at < end for r in history.readers)
        left = [r for r in history.readers if r.left_at and start <= r.left_at < end]
        assert week.unsubscribed == sum(r.left_as == SubscriberStatus.UNSUBSCRIBED for r in left)
        assert week.dropped == sum(r.left_as != SubscriberStatus.UNSUBSCRIBED for r in left)
    assert sum(week.joined for week in weeks) > 0
    assert sum(week.dropped for week in weeks) > 0
    assert sum(week.unsubscribed for week in weeks) > 0


def test_the_last_twelve_editions_count_what_the_history_holds(
    database: Database, history: History
) -> None:
    with database.session() as session:
        found = figures.recent_editions(session, 12)

    assert [edition.id for edition in found] == history.edition_ids[::-1][:12]
    for edition in found:
        expected = history.expected[edition.id]
        numbers = {
            "recipients": edition.recipients,
            "sent": edition.sent,
            "deferred": edition.deferred,
            "failed": edition.failed,
            "hard": edition.hard,
            "soft": edition.soft,
            "complaints": edition.complaints,
            "unsubscribes": edition.unsubscribes,
        }
        assert numbers == {key: expected[key] for key in numbers}, edition.id
        assert edition.sender == 0  # no report of that kind exists yet
        assert edition.hard_percent == pytest.approx(
            100 * expected["hard"] / expected["recipients"]
        )
    assert sum(edition.hard for edition in found) > 0
    assert sum(edition.complaints for edition in found) > 0
    assert sum(edition.unsubscribes for edition in found) > 0


def test_an_editions_returned_mail_has_its_reasons(database: Database, history: History) -> None:
    with database.session() as session:
        returned = {
            edition_id: figures.edition_returned(session, edition_id)
            for edition_id in history.edition_ids
        }
    for edition_id, items in returned.items():
        expected = history.expected[edition_id]
        kinds = [item.kind for item in items]
        assert kinds.count("hard") == expected["hard"]
        assert kinds.count("complaint") == expected["complaints"]
        assert all(item.reason in ("user unknown", "abuse report") for item in items)
        assert all(item.email and item.email.startswith("lezer") for item in items)
