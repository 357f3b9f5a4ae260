"""What came back, told: the stored reports for ``bounces list`` and the counts of one
edition for ``editions show`` and the returns limits.

Read only: the reports written by :mod:`newsletter.returns.apply` and the ledger's
``bounce`` events of the send itself; nothing here changes a reader or a delivery.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from newsletter.db.models import (
    BounceReport,
    Delivery,
    DeliveryStatus,
    Edition,
    Event,
    ReportResult,
    Subscriber,
)
from newsletter.delivery.domain_hold import HARD, HELD, send_refusals
from newsletter.delivery.replies import Reply, classify_reply
from newsletter.returns.parse import Kind
from newsletter.returns.verdict import clean_reason

# The statuses the figures per domain count (the mail that reached the relay's answer or
# waits for another try); and how many readers one query looks up.
_COUNTED = (DeliveryStatus.SENT, DeliveryStatus.DEFERRED, DeliveryStatus.FAILED)
_CHUNK = 5000


@dataclass(frozen=True)
class ReportInfo:
    """One stored report, for ``bounces list``."""

    received_at: datetime
    result: str
    email: str | None
    edition_id: int | None
    source: str
    reason: str
    diagnostic: str
    domain: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "received_at": self.received_at.isoformat(),
            "result": self.result,
            "email": self.email,
            "edition": self.edition_id,
            "source": self.source,
            "reason": self.reason,
            "diagnostic": self.diagnostic,
            "domain": self.domain,
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
            report.diagnostic,
            report.domain,
        )
        for report, email in rows
    ]


@dataclass(frozen=True)
class DomainReturns:
    """One receiving domain's share of an edition: its messages by delivery status and
    its readers by what came back."""

    domain: str
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    hard: int = 0
    soft: int = 0
    sender: int = 0
    complaints: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EditionReturns:
    """What came back for one edition, for ``editions show``: distinct readers each.
    ``sender``: readers whose mail was refused on our side; ``suspect``: hard bounces
    held (see :mod:`newsletter.returns.suspect`), not counted as hard."""

    hard: int
    soft: int
    complaints: int
    unsubscribes: int
    sender: int = 0
    suspect: int = 0
    by_domain: tuple[DomainReturns, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "bounces": {"hard": self.hard, "soft": self.soft, "suspect": self.suspect},
            "sender": self.sender,
            "complaints": self.complaints,
            "unsubscribes": self.unsubscribes,
            "by_domain": [domain.to_json() for domain in self.by_domain],
        }


def edition_returns(session: Session, edition_id: int, *, top_domains: int = 0) -> EditionReturns:
    """Hard bounces count both kinds: refused during the send for good (the ledger's hard
    ``bounce`` events; not the readers its soft-bounce rule marked) and reported later.
    Soft bounces too: a 4xx that no retry delivered (the delivery's ``soft_bounce``, which
    a late soft report also sets) or a soft report. ``top_domains``: that many receiving
    domains, most mail first, each with its own counts."""
    readers: dict[str, set[int]] = defaultdict(set)
    for result, subscriber_id in session.execute(
        select(BounceReport.result, BounceReport.subscriber_id).where(
            BounceReport.edition_id == edition_id, BounceReport.subscriber_id.is_not(None)
        )
    ):
        if subscriber_id is not None:
            readers[result].add(subscriber_id)
    soft_at_send = set(
        session.scalars(
            select(Delivery.subscriber_id).where(
                Delivery.edition_id == edition_id, Delivery.soft_bounce.is_(True)
            )
        )
    )
    refusals = send_refusals(session.connection(), edition_id)  # read once: thousands
    counted = {
        "hard": readers[Kind.HARD] | _refused(refusals, HARD),
        "soft": readers[Kind.SOFT] | soft_at_send,
        "sender": readers[Kind.SENDER]
        | {r.subscriber_id for r in refused_on_our_side(session, edition_id)},
        "complaints": readers[Kind.COMPLAINT],
    }
    return EditionReturns(
        hard=len(counted["hard"]),
        soft=len(counted["soft"]),
        complaints=len(counted["complaints"]),
        unsubscribes=_unsubscribes(session, edition_id),
        sender=len(counted["sender"]),
        suspect=len(readers[ReportResult.SUSPECT] | _refused(refusals, HELD)),
        by_domain=_by_domain(session, edition_id, counted, top_domains) if top_domains else (),
    )


def _by_domain(
    session: Session, edition_id: int, counted: dict[str, set[int]], top: int
) -> tuple[DomainReturns, ...]:
    """The edition's deliveries and returned readers per receiving domain, as the
    deliveries keep it (erased readers have none and count nowhere here): the statuses
    counted by the database from its index, the few returned readers looked up."""
    numbers: dict[str, Counter[str]] = defaultdict(Counter)
    for domain, status, number in session.execute(
        select(Delivery.domain, Delivery.status, func.count())
        .where(
            Delivery.edition_id == edition_id,
            Delivery.domain.is_not(None),
            Delivery.status.in_(_COUNTED),
        )
        .group_by(Delivery.domain, Delivery.status)
    ):
        numbers[str(domain)][status] += number
    returned = set().union(*counted.values())
    domain_of = _domains_of(session, edition_id, returned)
    for name, subscriber_ids in counted.items():
        for subscriber_id in subscriber_ids:
            if subscriber_id in domain_of:
                numbers[domain_of[subscriber_id]][name] += 1
    ranked = sorted(numbers.items(), key=lambda item: (-item[1].total(), item[0]))
    return tuple(DomainReturns(domain, **dict(found)) for domain, found in ranked[:top])


def _domains_of(session: Session, edition_id: int, readers: set[int]) -> dict[int, str]:
    """The receiving domain of each of ``readers`` in this edition (a chunk at a time:
    a database takes only so many parameters)."""
    found: dict[int, str] = {}
    ordered = sorted(readers)
    for start in range(0, len(ordered), _CHUNK):
        for subscriber_id, domain in session.execute(
            select(Delivery.subscriber_id, Delivery.domain).where(
                Delivery.edition_id == edition_id,
                Delivery.subscriber_id.in_(ordered[start : start + _CHUNK]),
            )
        ):
            if domain is not None:  # not in the query: SQLite would then scan the edition
                found[subscriber_id] = domain
    return found


def _refused(refusals: dict[int, str], what: str) -> set[int]:
    """The readers of ``refusals`` (see ``send_refusals``) whose refusal did ``what``."""
    return {reader for reader, did in refusals.items() if did == what}


def _unsubscribes(session: Session, edition_id: int) -> int:
    """The edition's readers who unsubscribed after it started and before the next
    edition started (as Mailchimp attributes them)."""
    edition = session.get(Edition, edition_id)
    if edition is None or edition.started_at is None:
        return 0
    next_start = session.scalar(
        select(func.min(Edition.started_at)).where(
            Edition.id > edition_id, Edition.started_at.is_not(None)
        )
    )
    window = [Event.occurred_at >= edition.started_at]
    if next_start is not None:
        window.append(Event.occurred_at < next_start)
    return (
        session.scalar(
            select(func.count(func.distinct(Event.subscriber_id))).where(
                Event.kind == "unsubscribe",
                *window,
                # Each unsubscribe looked up in the edition (not the edition's million
                # readers listed for the unsubscribes to be found among).
                exists().where(
                    Delivery.edition_id == edition_id,
                    Delivery.subscriber_id == Event.subscriber_id,
                    Delivery.status == DeliveryStatus.SENT,
                ),
            )
        )
        or 0
    )


def refused_for_good(session: Session, edition_id: int) -> set[int]:
    """The readers whose address the relay refused for good during the send (5.1.x) and
    who were dropped for it: a hard bounce, which the returns alert speaks of, not a
    failure of the send itself (held ones are ``suspect``)."""
    return _refused(send_refusals(session.connection(), edition_id), HARD)


@dataclass(frozen=True)
class OurSideRefusal:
    """A delivery the relay refused during the send for a reason on our side (a
    ``550 5.7.26`` at RCPT): failed, with no report of its own."""

    subscriber_id: int
    domain: str | None
    reply: Reply
    text: str  # the reply, cleaned as a report's diagnostic is (no address)


def refused_on_our_side(session: Session, edition_id: int) -> list[OurSideRefusal]:
    """The edition's failed deliveries whose last reply the one classifier of replies
    calls ``sender``: counted and alerted like a ``sender`` report that came back later.
    Judged here from the ledger's reply rather than recorded apart, so the rule stays in
    :mod:`newsletter.delivery.replies` alone."""
    failed = (
        Delivery.edition_id == edition_id,
        Delivery.status == DeliveryStatus.FAILED,
        Delivery.last_reply.is_not(None),
    )
    # A send's refusals repeat a few replies thousands of times: the database lists the
    # distinct ones, and only the deliveries of those on our side are read.
    replies = {
        text: reply
        for text in session.scalars(select(Delivery.last_reply).where(*failed).distinct())
        if (reply := classify_reply(None, text or "")).kind == Kind.SENDER
    }
    if not replies:
        return []
    rows = session.execute(
        select(Delivery.subscriber_id, Delivery.last_reply, Subscriber.email)
        .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(*failed, Delivery.last_reply.in_(list(replies)))
        .order_by(Delivery.id)
    )
    return [
        OurSideRefusal(
            subscriber_id,
            email.rpartition("@")[2] if email else None,
            replies[text],
            clean_reason(text or ""),
        )
        for subscriber_id, text, email in rows
    ]


@dataclass(frozen=True)
class Drop:
    """What made a reader ``bounced``: a report that came back, or the relay's refusal
    during the send (``source`` ``sender``, no report of its own)."""

    when: datetime
    kind: str
    reason: str
    diagnostic: str
    edition_id: int | None
    source: str

    def to_json(self) -> dict[str, Any]:
        return {
            "when": self.when.isoformat(),
            "kind": self.kind,
            "reason": self.reason,
            "diagnostic": self.diagnostic,
            "edition": self.edition_id,
            "source": self.source,
        }


def what_dropped(session: Session, subscriber_id: int) -> Drop | None:
    """The latest event that made the reader ``bounced``, with the report it names."""
    events = session.scalars(
        select(Event)
        .where(Event.subscriber_id == subscriber_id, Event.kind == "bounce")
        .order_by(Event.id.desc())
    )
    for event in events:
        detail = event.detail or {}
        if event.actor == "sender" and detail.get("type") == HELD:
            continue  # held by the suspect rule: it dropped nobody
        if "refusal" in detail:  # a refusal held during the send, confirmed by the owner
            refusal = session.get(Event, detail["refusal"])
            reply = str(((refusal.detail if refusal else None) or {}).get("reply") or "")
            return Drop(event.occurred_at, "hard", "", reply, event.edition_id, "sender")
        if event.actor == "sender":  # the ledger writes one for a reader it drops or holds
            reply = str(detail.get("reply") or detail.get("reason") or "")
            return Drop(
                event.occurred_at,
                str(detail.get("type", "hard")),
                "",
                reply,
                event.edition_id,
                event.actor,
            )
        if detail.get("status_after") != "bounced" or detail.get("status_before") == "bounced":
            continue
        report = session.get(BounceReport, detail.get("report")) if "report" in detail else None
        if report is not None:
            return Drop(
                report.received_at,
                report.result,
                report.reason,
                report.diagnostic,
                report.edition_id,
                report.source,
            )
    return None
