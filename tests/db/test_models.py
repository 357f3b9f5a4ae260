"""db/models on both databases: times are aware UTC in and out, and a status is one of its
enum's values, checked by the database itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError, StatementError

from newsletter.db.database import Database
from newsletter.db.models import Subscriber, SubscriberStatus

AMSTERDAM_SUMMER = timezone(timedelta(hours=2))


def test_a_time_goes_in_with_any_offset_and_comes_out_as_utc(database: Database) -> None:
    local = datetime(2026, 7, 3, 9, 30, tzinfo=AMSTERDAM_SUMMER)
    with database.session() as session:
        row = Subscriber(email="anna@example.nl", status=SubscriberStatus.ACTIVE, created_at=local)
        session.add(row)
        session.flush()
        subscriber_id = row.id
    with database.session() as session:
        stored = session.get(Subscriber, subscriber_id)
        assert stored is not None
        assert stored.created_at == local
        assert stored.created_at.tzinfo == UTC
        assert stored.created_at.hour == 7


def test_a_naive_time_is_refused_before_it_reaches_the_database(database: Database) -> None:
    naive = Subscriber(
        email="anna@example.nl", status=SubscriberStatus.ACTIVE, created_at=datetime(2026, 7, 3)
    )
    refusal = "naive datetime given to the database"
    with pytest.raises(StatementError, match=refusal), database.session() as session:
        session.add(naive)
        session.flush()


def test_a_status_outside_its_enum_is_refused_by_the_database(database: Database) -> None:
    with pytest.raises(IntegrityError, match="status_allowed"), database.session() as session:
        session.add(Subscriber(email="anna@example.nl", status="paused"))
        session.flush()
