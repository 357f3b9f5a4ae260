"""The empty-slot notes: written once per week, read back for ``status``."""

from __future__ import annotations

from sqlalchemy import func, select

from newsletter.db.database import Database
from newsletter.db.models import Event
from newsletter.runtime.empty_slots import (
    EMPTY_SLOT_EVENT,
    empty_slot_weeks,
    record_empty_slot,
)


def test_a_week_is_noted_once_however_often_its_slot_finds_the_queue_empty(
    database: Database,
) -> None:
    for key in ("2026-W48", "2026-W49", "2026-W49"):
        with database.session() as session:
            record_empty_slot(session, key)
    with database.session() as session:
        assert empty_slot_weeks(session) == {"2026-W48", "2026-W49"}
        notes = session.scalar(
            select(func.count()).select_from(Event).where(Event.kind == EMPTY_SLOT_EVENT)
        )
    assert notes == 2


def test_no_note_no_week(database: Database) -> None:
    with database.session() as session:
        assert empty_slot_weeks(session) == set()
