"""A feed that has failed for a day: one owner alert per feed per week, its address and
its error without a password, the moment in local time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from newsletter.db.database import Database
from newsletter.db.models import OwnerAlert
from newsletter.feeds import state
from newsletter.feeds.failing import FEED_FAILING_HOURS, record_failing_feeds
from tests.support.settings import AMSTERDAM

PRIVATE = "https://gerrit:geheim@blog.example/feed/"
PUBLIC = "https://blog.example/andere-feed/"
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _fail(database: Database, url: str, since: datetime, error: str) -> None:
    with database.session() as session:
        state.record_failure(state.feed_for(session, url, since), since, error)


def _record(database: Database, now: datetime, period: str = "2026-W49") -> int:
    with database.session() as session:
        return record_failing_feeds(session, (PRIVATE, PUBLIC), now, period, AMSTERDAM)


def test_a_feed_failing_for_a_day_is_one_alert_per_week(database: Database) -> None:
    _fail(database, PRIVATE, MONDAY, f"cannot fetch {PRIVATE}: HTTP 502")
    _fail(database, PUBLIC, MONDAY + timedelta(hours=2), "HTTP 404")
    assert _record(database, MONDAY + timedelta(hours=FEED_FAILING_HOURS - 1)) == 0
    day_later = MONDAY + timedelta(hours=FEED_FAILING_HOURS)
    assert _record(database, day_later) == 1  # the other has failed for 22 hours only
    assert _record(database, day_later + timedelta(hours=1)) == 0  # the same week
    assert _record(database, day_later + timedelta(hours=2)) == 1  # now the other's turn
    assert _record(database, day_later + timedelta(days=7), "2026-W50") == 2
    with database.session() as session:
        causes = session.scalars(select(OwnerAlert.cause).order_by(OwnerAlert.id)).all()
    assert causes[:2] == [f"feed-failing:{PRIVATE}", f"feed-failing:{PUBLIC}"]


def test_the_alert_names_the_feed_and_its_error_without_the_password(database: Database) -> None:
    _fail(database, PRIVATE, MONDAY, f"cannot fetch {PRIVATE}: HTTP 502")
    _record(database, MONDAY + timedelta(days=1))
    with database.session() as session:
        alert = session.scalars(select(OwnerAlert)).one()
        details, subject = alert.details, alert.subject
    assert subject == "De feed van de blog is al een dag niet te lezen"
    first = details["paragraphs"][0]
    assert first.startswith("Sinds 30-11-2026 om 09:00 lukt het niet om ")
    assert "https://gerrit:***@blog.example/feed/" in first
    assert details["report"] == "cannot fetch https://gerrit:***@blog.example/feed/: HTTP 502"
    assert "geheim" not in str(details)


def test_a_feed_no_longer_configured_is_not_alerted(database: Database) -> None:
    _fail(database, "https://oud.example/feed/", MONDAY, "HTTP 410")
    assert _record(database, MONDAY + timedelta(days=2)) == 0
