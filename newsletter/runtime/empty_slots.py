"""The weeks whose slot found the queue empty, as notes in the event log.

The weekly job writes them and ``status`` reads them; they live apart from the jobs so
that reading them (a read-only summary) does not load the delivery engine.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.db.events import record_event
from newsletter.db.models import Event

EMPTY_SLOT_EVENT = "slot_empty"


def record_empty_slot(session: Session, key: str) -> None:
    """Note in the events log that week ``key``'s slot found the queue empty (once)."""
    if key not in empty_slot_weeks(session):
        record_event(session, EMPTY_SLOT_EVENT, "scheduler", week=key)


def empty_slot_weeks(session: Session) -> set[str]:
    """The recent weeks whose slot found the queue empty (``status`` reports the last one)."""
    recent = session.scalars(
        select(Event.detail)
        .where(Event.kind == EMPTY_SLOT_EVENT)
        .order_by(Event.id.desc())
        .limit(8)
    )
    return {str(detail["week"]) for detail in recent if detail and "week" in detail}
