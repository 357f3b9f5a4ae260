"""The event log: one row for every change an admin, a reader or the daemon makes.

Subscribers, editions, bounces and the scheduler all write here, so the log sits on its
own below them rather than inside any one of them. Rows are only ever added: the log is
what ``status``, the bounce statistics and an audit read back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from newsletter.db.models import Event


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
