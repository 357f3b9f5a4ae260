"""The event log: one row for every change an admin, a reader or the daemon makes.

Subscribers, editions, bounces and the scheduler all write here, so the log sits on its
own below them rather than inside any one of them. Rows are only ever added: the log is
what ``status``, the bounce statistics and an audit read back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.db.models import Event

# `newsletter doctor` writes nothing else; its last run is what the owner's page shows.
DOCTOR_EVENT = "doctor"


def record_event(
    session: Session,
    kind: str,
    actor: str,
    subscriber_id: int | None = None,
    edition_id: int | None = None,
    **detail: Any,
) -> None:
    """Add one event to the session; ``detail`` becomes its JSON detail (none when empty)."""
    session.add(
        Event(
            kind=kind,
            actor=actor,
            subscriber_id=subscriber_id,
            edition_id=edition_id,
            detail=detail or None,
        )
    )


@dataclass(frozen=True)
class DoctorRun:
    """The outcome of the last full ``newsletter doctor``: the checks that failed or warned."""

    at: datetime
    failed: tuple[str, ...]
    warned: tuple[str, ...]


def last_doctor_run(session: Session) -> DoctorRun | None:
    event = session.scalar(
        select(Event).where(Event.kind == DOCTOR_EVENT).order_by(Event.id.desc()).limit(1)
    )
    if event is None:
        return None
    detail = event.detail or {}
    return DoctorRun(
        event.occurred_at,
        tuple(str(name) for name in detail.get("failed", ())),
        tuple(str(name) for name in detail.get("warned", ())),
    )
