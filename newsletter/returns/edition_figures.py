"""One edition's figures, all in one place: where every recipient stands, what came back
and why, and per receiving domain; for the owner's edition page, the overview's table and
the weekly report mail, which must say the same.

Read only. Each number comes from the one place that defines it: the tally from
:mod:`newsletter.delivery.editions`, what came back from :mod:`newsletter.returns.report`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.db.models import BounceReport, Edition, Event, ReportResult, Subscriber
from newsletter.db.states import PUBLISHED
from newsletter.delivery.domain_hold import refusal_type
from newsletter.delivery.editions import describe_edition
from newsletter.returns.report import DomainReturns, edition_returns

# The reports an edition's page lists: what bounced or was complained about (an
# ``unsubscribe`` report is counted with the unsubscribes; an ``ignored`` one is not ours).
RETURNED = (
    ReportResult.HARD,
    ReportResult.SOFT,
    ReportResult.SENDER,
    ReportResult.COMPLAINT,
    ReportResult.SUSPECT,
)


@dataclass(frozen=True)
class EditionFigures:
    """One edition as the overview and the edition page show it."""

    id: int
    subject: str
    post_slug: str
    status: str
    started_at: datetime | None
    recipients: int
    sent: int
    deferred: int
    failed: int
    hard: int
    soft: int
    sender: int
    complaints: int
    unsubscribes: int
    suspect: int = 0
    by_domain: tuple[DomainReturns, ...] = ()

    @property
    def in_archive(self) -> bool:
        """Whether the archive shows it (``/archive/{post_slug}``)."""
        return self.status in PUBLISHED

    @property
    def hard_percent(self) -> float:
        return _percent(self.hard, self.recipients)

    @property
    def complaint_percent(self) -> float:
        return _percent(self.complaints, self.recipients)


def _percent(part: int, whole: int) -> float:
    return 100 * part / whole if whole else 0.0


def edition_figures(session: Session, edition_id: int, *, top_domains: int = 0) -> EditionFigures:
    """The figures of one edition (``NotFoundError`` when there is none); with
    ``top_domains``, that many receiving domains, most mail first, each with its own."""
    info = describe_edition(session, edition_id)
    tally = info.tally()
    returns = edition_returns(session, edition_id, top_domains=top_domains)
    return EditionFigures(
        id=info.id,
        subject=info.subject,
        post_slug=info.post_slug,
        status=info.status,
        started_at=info.started_at,
        recipients=info.recipients,
        sent=tally["sent"],
        deferred=tally["deferred"],
        failed=tally["failed"],
        hard=returns.hard,
        soft=returns.soft,
        sender=returns.sender,
        complaints=returns.complaints,
        unsubscribes=returns.unsubscribes,
        suspect=returns.suspect,
        by_domain=returns.by_domain,
    )


def recent_editions(session: Session, limit: int) -> list[EditionFigures]:
    """The last ``limit`` editions, newest first."""
    ids = session.scalars(select(Edition.id).order_by(Edition.id.desc()).limit(limit))
    return [edition_figures(session, edition_id) for edition_id in list(ids)]


@dataclass(frozen=True)
class ReturnedMail:
    """One bounce or complaint of an edition, with its reason, for the edition page."""

    at: datetime | None
    kind: str
    email: str | None
    reason: str
    diagnostic: str


def edition_returned(session: Session, edition_id: int) -> list[ReturnedMail]:
    """The edition's bounces and complaints: the reports that came back later and the
    addresses the relay refused during the send (the ledger's ``bounce`` events)."""
    reports = session.execute(
        select(
            BounceReport.received_at,
            BounceReport.result,
            Subscriber.email,
            BounceReport.reason,
            BounceReport.diagnostic,
        )
        .outerjoin(Subscriber, Subscriber.id == BounceReport.subscriber_id)
        .where(BounceReport.edition_id == edition_id, BounceReport.result.in_(RETURNED))
        .order_by(BounceReport.id)
    )
    refusals = session.execute(
        select(Event.occurred_at, Subscriber.email, Event.detail)
        .outerjoin(Subscriber, Subscriber.id == Event.subscriber_id)
        .where(Event.kind == "bounce", Event.actor == "sender", Event.edition_id == edition_id)
        .order_by(Event.id)
    )
    return [ReturnedMail(*row) for row in reports] + [
        ReturnedMail(at, refusal_type(detail or {}), email, "", _reply(detail or {}))
        for at, email, detail in refusals
    ]


def _reply(detail: dict[str, Any]) -> str:
    return str(detail.get("reply") or detail.get("reason") or "")
