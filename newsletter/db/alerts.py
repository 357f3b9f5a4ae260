"""Owner alerts as rows: recorded by whoever knows the cause, mailed by one mailer.

The parts that see something go wrong (the scheduler, the feeds, the returns threshold)
only record it here, in their own transaction, so recording never waits for a relay and
never fails for one. :mod:`newsletter.runtime.owner_mail` claims what is pending,
mails it, and marks it sent, or gives the claim back so a later run tries again.

"Once per cause per period" is the unique (cause, period) pair: recording the same cause
again in one period (an ISO week; :data:`ONCE` for what may only ever be told once) is a
no-op, by any process, at any moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from newsletter.db.database import insert_unless_taken
from newsletter.db.models import AlertStatus, OwnerAlert, utcnow

ONCE = "once"

# A claim older than this was left by a mailer that died; an alert whose mail failed
# waits as long before the next try, so a relay that is down is not asked every minute.
RETRY_AFTER = timedelta(minutes=10)


def local_moment(moment: datetime, zone: tzinfo) -> str:
    """A moment as alerts write it: ``09-11-2026 om 07:00``, local time."""
    return moment.astimezone(zone).strftime("%d-%m-%Y om %H:%M")


def record_alert(
    session: Session,
    *,
    cause: str,
    period: str,
    subject: str,
    paragraphs: Sequence[str],
    report: str | None = None,
    edition_id: int | None = None,
    extra: dict[str, Any] | None = None,
) -> bool:
    """Record that the owner must hear about ``cause`` this ``period``; False when that
    was already recorded (by anyone). ``extra`` is kept beside the mail's text.

    ``recorded_at`` is the wall clock's, as ``editions.created_at`` is: the hold rule
    compares the two."""
    values = {
        "cause": cause,
        "period": period,
        "subject": subject,
        "status": AlertStatus.PENDING,
        "edition_id": edition_id,
        "details": {"paragraphs": list(paragraphs), "report": report, **(extra or {})},
        "recorded_at": utcnow(),
    }
    return insert_unless_taken(session, OwnerAlert, values) is not None


def rewrite_pending(
    session: Session,
    *,
    cause: str,
    period: str,
    subject: str,
    paragraphs: Sequence[str],
    edition_id: int | None = None,
) -> bool:
    """Record the alert, or bring its text up to date while it waits for the mailer (an
    alert that grows, such as an edition's rejections per domain). Once claimed it is
    left alone: what went out went out. True when recorded or rewritten now."""
    if record_alert(
        session,
        cause=cause,
        period=period,
        subject=subject,
        paragraphs=paragraphs,
        edition_id=edition_id,
    ):
        return True
    rewritten = session.execute(
        update(OwnerAlert)
        .where(
            OwnerAlert.cause == cause,
            OwnerAlert.period == period,
            OwnerAlert.status == AlertStatus.PENDING,
        )
        .values(subject=subject, details={"paragraphs": list(paragraphs), "report": None})
    )
    return bool(getattr(rewritten, "rowcount", 0))


def latest(session: Session, cause_prefix: str) -> OwnerAlert | None:
    """The most recent alert whose cause starts with ``cause_prefix``."""
    query = select(OwnerAlert).where(OwnerAlert.cause.startswith(cause_prefix, autoescape=True))
    return session.scalar(query.order_by(OwnerAlert.id.desc()))


def claimable(session: Session, now: datetime) -> list[OwnerAlert]:
    """The alerts a mailer may take now, oldest first: pending and not tried within
    :data:`RETRY_AFTER`, or claimed that long ago by a mailer that did not finish."""
    return list(session.scalars(select(OwnerAlert).where(_takeable(now)).order_by(OwnerAlert.id)))


def claim(session: Session, ids: Sequence[int], now: datetime) -> list[int]:
    """Claim these alerts for one mail; the ids this caller got (none: another mailer
    was first). One conditional UPDATE, so two mailers never both get an alert."""
    statement = (
        update(OwnerAlert)
        .where(OwnerAlert.id.in_(ids), _takeable(now))
        .values(status=AlertStatus.CLAIMED, tried_at=now)
        .returning(OwnerAlert.id)
    )
    return sorted(session.scalars(statement))


def finish(session: Session, ids: Sequence[int], now: datetime, status: AlertStatus) -> None:
    """The claimed alerts ``ids`` went out (``sent``) or were only logged (``logged``)."""
    session.execute(
        update(OwnerAlert)
        .where(OwnerAlert.id.in_(ids), OwnerAlert.status == AlertStatus.CLAIMED)
        .values(status=status, sent_at=now)
    )


def release(session: Session, ids: Sequence[int]) -> None:
    """The mail of the claimed alerts ``ids`` failed: pending again, tried after a while."""
    session.execute(
        update(OwnerAlert)
        .where(OwnerAlert.id.in_(ids), OwnerAlert.status == AlertStatus.CLAIMED)
        .values(status=AlertStatus.PENDING)
    )


def _takeable(now: datetime) -> Any:
    waited = or_(OwnerAlert.tried_at.is_(None), OwnerAlert.tried_at <= now - RETRY_AFTER)
    return and_(OwnerAlert.status.in_([AlertStatus.PENDING, AlertStatus.CLAIMED]), waited)
