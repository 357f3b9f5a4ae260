"""What came back, told: the stored reports for ``bounces list`` and the counts of one
edition for ``editions show`` and the returns limits.

Read only: the reports written by :mod:`newsletter.returns.apply` and the ledger's
``bounce`` events of the send itself; nothing here changes a reader or a delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.db.models import BounceReport, Delivery, DeliveryStatus, Edition, Event, Subscriber
from newsletter.returns.parse import Kind


@dataclass(frozen=True)
class ReportInfo:
    """One stored report, for ``bounces list``."""

    received_at: datetime
    result: str
    email: str | None
    edition_id: int | None
    source: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "received_at": self.received_at.isoformat(),
            "result": self.result,
            "email": self.email,
            "edition": self.edition_id,
            "source": self.source,
            "reason": self.reason,
        }


def recent_reports(session: Session, limit: int) -> list[ReportInfo]:
    rows = session.execute(
        select(BounceReport, Subscriber.email)
        .outerjoin(Subscriber, Subscriber.id == BounceReport.subscriber_id)
        .order_by(BounceReport.id.desc())
        .limit(max(limit, 0))
    ).all()
    return [
        ReportInfo(
            report.received_at,
            report.result,
            email,
            report.edition_id,
            report.source,
            report.reason,
        )
        for report, email in rows
    ]


@dataclass(frozen=True)
class EditionReturns:
    """What came back for one edition, for ``editions show``: distinct readers each."""

    hard: int
    soft: int
    complaints: int
    unsubscribes: int

    def to_json(self) -> dict[str, Any]:
        return {
            "bounces": {"hard": self.hard, "soft": self.soft},
            "complaints": self.complaints,
            "unsubscribes": self.unsubscribes,
        }


def edition_returns(session: Session, edition_id: int) -> EditionReturns:
    """Hard bounces count both kinds: refused during the send for good (the ledger's hard
    ``bounce`` events; not the readers its soft-bounce rule marked) and reported later.
    Soft bounces too: a 4xx that no retry delivered (the delivery's ``soft_bounce``, which
    a late soft report also sets) or a soft report. Unsubscribes are the edition's readers
    who unsubscribed after it started and before the next edition started (as Mailchimp
    attributes them)."""

    def readers(result: str) -> set[int]:
        return set(
            session.scalars(
                select(BounceReport.subscriber_id).where(
                    BounceReport.edition_id == edition_id,
                    BounceReport.result == result,
                    BounceReport.subscriber_id.is_not(None),
                )
            )
        )

    refused = refused_for_good(session, edition_id)
    soft_at_send = set(
        session.scalars(
            select(Delivery.subscriber_id).where(
                Delivery.edition_id == edition_id, Delivery.soft_bounce.is_(True)
            )
        )
    )
    edition = session.get(Edition, edition_id)
    unsubscribes = 0
    if edition is not None and edition.started_at is not None:
        next_start = session.scalar(
            select(func.min(Edition.started_at)).where(
                Edition.id > edition_id, Edition.started_at.is_not(None)
            )
        )
        window = [Event.occurred_at >= edition.started_at]
        if next_start is not None:
            window.append(Event.occurred_at < next_start)
        unsubscribes = (
            session.scalar(
                select(func.count(func.distinct(Event.subscriber_id))).where(
                    Event.kind == "unsubscribe",
                    *window,
                    Event.subscriber_id.in_(
                        select(Delivery.subscriber_id).where(
                            Delivery.edition_id == edition_id,
                            Delivery.status == DeliveryStatus.SENT,
                        )
                    ),
                )
            )
            or 0
        )
    return EditionReturns(
        hard=len((readers(Kind.HARD) | refused) - {None}),
        soft=len((readers(Kind.SOFT) | soft_at_send) - {None}),
        complaints=len(readers(Kind.COMPLAINT)),
        unsubscribes=unsubscribes,
    )


def refused_for_good(session: Session, edition_id: int) -> set[int]:
    """The readers whose address the relay refused for good during the send (5.1.x): a
    hard bounce, which the returns alert speaks of, not a failure of the send itself."""
    return {
        subscriber_id
        for subscriber_id, detail in session.execute(
            select(Event.subscriber_id, Event.detail).where(
                Event.kind == "bounce", Event.actor == "sender", Event.edition_id == edition_id
            )
        )
        if _refused_for_good(detail or {})
    }


def _refused_for_good(detail: dict[str, Any]) -> bool:
    """A ledger ``bounce`` event for an address that does not exist (a 5.1.x), not one for
    temporary failures that added up. Events written before ``type`` was: by the reason."""
    if "type" in detail:
        return bool(detail["type"] == "hard")
    return bool(detail.get("reason") == "the address does not exist")
