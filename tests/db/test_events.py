"""The event log: what ``record_event`` writes, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from newsletter.db.database import Database
from newsletter.db.events import record_event
from newsletter.db.models import Event


def test_an_event_keeps_its_kind_actor_and_detail(database: Database) -> None:
    with database.session() as session:
        record_event(session, "slot_empty", "scheduler", week="2026-W49")
    with database.session() as session:
        event = session.scalars(select(Event)).one()
        assert (event.kind, event.actor, event.detail) == (
            "slot_empty",
            "scheduler",
            {"week": "2026-W49"},
        )
        assert event.subscriber_id is None and event.edition_id is None
        assert event.occurred_at is not None


def test_an_event_without_detail_stores_none_rather_than_an_empty_object(
    database: Database,
) -> None:
    with database.session() as session:
        record_event(session, "check_skipped", "admin")
        record_event(session, "edition_sent", "sender", edition_id=None)
    with database.session() as session:
        details = session.scalars(select(Event.detail).order_by(Event.id)).all()
    assert details == [None, None]
