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

from sqlalchemy import func, literal, null, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.selectable import Subquery

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


@dataclass(frozen=True)
class ReturnedPage:
    """One page of an edition's returned mail, newest first, and how many there are in
    all: at a million readers an edition has thousands, and the page shows a few."""

    rows: list[ReturnedMail]
    total: int
    number: int
    size: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number * self.size < self.total


def edition_returned(session: Session, edition_id: int, number: int, size: int) -> ReturnedPage:
    """Page ``number`` (from 1; past the last, the last) of the edition's bounces and
    complaints: the reports that came back later and the addresses the relay refused
    during the send (the ledger's ``bounce`` events), newest first. Only the page's rows
    are read, and only their readers looked up."""
    refusals = select(
        Event.occurred_at.label("at"),
        null().label("kind"),
        Event.subscriber_id.label("subscriber_id"),
        literal("").label("reason"),
        literal("").label("diagnostic"),
        Event.detail.label("detail"),
        literal(1).label("source"),
        Event.id.label("row_id"),
    ).where(Event.edition_id == edition_id, Event.kind == "bounce", Event.actor == "sender")
    reports = select(
        BounceReport.received_at,
        BounceReport.result,
        BounceReport.subscriber_id,
        BounceReport.reason,
        BounceReport.diagnostic,
        null(),
        literal(0),
        BounceReport.id,
    ).where(BounceReport.edition_id == edition_id, BounceReport.result.in_(RETURNED))
    both = union_all(refusals, reports).subquery()
    total = session.scalar(select(func.count()).select_from(both)) or 0
    number = max(1, min(number, -(-total // size)))
    shown = (
        select(both)
        .order_by(*_newest_first(both))
        .limit(size)
        .offset((number - 1) * size)
        .subquery()
    )
    rows = session.execute(
        select(shown, Subscriber.email)
        .outerjoin(Subscriber, Subscriber.id == shown.c.subscriber_id)
        .order_by(*_newest_first(shown))
    )
    listed = [
        ReturnedMail(row.at, row.kind, row.email, row.reason, row.diagnostic)
        if row.kind is not None
        else ReturnedMail(
            row.at, refusal_type(row.detail or {}), row.email, "", _reply(row.detail or {})
        )
        for row in rows
    ]
    return ReturnedPage(listed, total, number, size)


def _newest_first(rows: Subquery) -> tuple[UnaryExpression[Any], ...]:
    """A total order: two returns may share a moment, never a source and an id."""
    return rows.c.at.desc(), rows.c.source.desc(), rows.c.row_id.desc()


def _reply(detail: dict[str, Any]) -> str:
    return str(detail.get("reply") or detail.get("reason") or "")
