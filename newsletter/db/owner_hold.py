"""The owner's hold on the next weekly edition, asked for before the slot has made it.

Kept in the event log, not a table of its own: the owner's two decisions are events anyway
(actor ``owner``), and the hold needs no other state. It is pending while the owner's last
word was "hold" and no weekly edition has been made since; the first weekly edition made
after it is held (and so ends it), as :func:`newsletter.returns.limits.hold_reason` ends a
hold for too many bounces. An edition sent by hand (``newsletter send``) has no week and
leaves the hold for the slot's edition.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.db.events import record_event
from newsletter.db.models import Edition, Event

ASKED = "next_edition_held"
WITHDRAWN = "next_edition_released"
REASON = "held by the owner before it was made; release it in the owner's area"


def pending(session: Session, *, made: int | None = None) -> bool:
    """Whether the owner holds the next weekly edition (``made``: the one just made, which
    does not count as made since)."""
    last = session.scalars(
        select(Event).where(Event.kind.in_([ASKED, WITHDRAWN])).order_by(Event.id.desc()).limit(1)
    ).first()
    if last is None or last.kind != ASKED:
        return False
    since = session.scalar(
        select(func.count())
        .select_from(Edition)
        .where(
            Edition.week_key.is_not(None),
            Edition.id != (made or 0),
            Edition.created_at > last.occurred_at,
        )
    )
    return not since


def ask(session: Session, actor: str) -> None:
    """Hold the next weekly edition when the slot makes it."""
    record_event(session, ASKED, actor)


def withdraw(session: Session, actor: str) -> bool:
    """Let the next weekly edition go after all; False when no hold was pending."""
    if not pending(session):
        return False
    record_event(session, WITHDRAWN, actor)
    return True


def hold_reason(session: Session, edition_id: int) -> str | None:
    """The weekly job's check (:data:`newsletter.delivery.publish.HoldCheck`) for the owner's
    hold on ``edition_id``, just made."""
    return REASON if pending(session, made=edition_id) else None
