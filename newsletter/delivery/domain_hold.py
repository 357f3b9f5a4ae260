"""The suspect rule: a receiving domain does not lose a fifth of its users in a week.

When one edition's hard bounces at one receiving domain reach ``minimum`` and pass
``percent`` of the edition's mail to that domain (sent or refused), the hard bounce that
takes it there and those after it are held, not dropped: a broken MX or a provider's bad
day says "user unknown" to everyone. It lives here, below ``returns``, because the send
hears most of them (``550 5.1.1`` at RCPT, held by :mod:`.outcomes`) and the reports that
come back later (held by :mod:`newsletter.returns.suspect`, which also tells the owner
and confirms) must count with them by the same rule and the same figures.

A refusal during the send leaves a ledger ``bounce`` event (actor ``sender``) whose
``type`` says what it did: ``hard`` (dropped), ``soft`` (temporary failures added up) or
``suspect`` (held: the reader stays active until ``bounces confirm`` writes a ``bounce``
event of its own naming it as its ``refusal``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select

from newsletter.config import BouncesSection
from newsletter.db.models import (
    BounceReport,
    Delivery,
    DeliveryStatus,
    Event,
    ReportResult,
    Subscriber,
)

HARD = "hard"
HELD = "suspect"


@dataclass(frozen=True)
class SuspectPolicy:
    minimum: int = 5
    percent: float = 20.0

    @classmethod
    def of(cls, bounces: BouncesSection) -> SuspectPolicy:
        return cls(bounces.suspect_minimum, bounces.suspect_percent)

    def holds(self, hard: int, mail: int) -> bool:
        """Whether ``hard`` hard bounces of ``mail`` messages to one domain are suspect."""
        return hard >= self.minimum and hard * 100 > self.percent * mail


def send_refusals(connection: Connection, edition_id: int) -> dict[int, str]:
    """The readers the relay refused for good during the send, and what that did (the
    event's ``type``; events written before it was: ``hard`` by their reason). A held one
    that the owner confirmed (a later ``bounce`` event naming it as its ``refusal``: the
    events are append-only) is ``hard``."""
    rows = connection.execute(
        select(Event.id, Event.actor, Event.subscriber_id, Event.detail)
        .where(Event.kind == "bounce", Event.edition_id == edition_id)
        .order_by(Event.id)
    ).all()
    confirmed = {(detail or {}).get("refusal") for _, actor, _, detail in rows if actor != "sender"}
    found: dict[int, str] = {}
    for event_id, actor, subscriber_id, detail in rows:
        if actor == "sender" and subscriber_id is not None:
            what = refusal_type(detail or {})
            found[subscriber_id] = HARD if what == HELD and event_id in confirmed else what
    return found


def refusal_type(detail: dict[str, Any]) -> str:
    """What a ledger ``bounce`` event did to its reader, from its detail."""
    if "type" in detail:
        return str(detail["type"])
    return HARD if detail.get("reason") == "the address does not exist" else "soft"


def hard_readers(connection: Connection, edition_id: int, domain: str) -> set[int]:
    """The edition's readers at ``domain`` with a hard bounce, dropped or held: refused
    during the send or reported later."""
    reported = connection.scalars(
        select(BounceReport.subscriber_id).where(
            BounceReport.edition_id == edition_id,
            BounceReport.domain == domain,
            BounceReport.result.in_((ReportResult.HARD, ReportResult.SUSPECT)),
            BounceReport.subscriber_id.is_not(None),
        )
    )
    refused = [
        reader
        for reader, what in send_refusals(connection, edition_id).items()
        if what in (HARD, HELD)
    ]
    at_domain = connection.scalars(
        select(Subscriber.id).where(Subscriber.id.in_(refused), at(domain))
    )
    return {reader for reader in reported if reader is not None} | set(at_domain)


def mail_to(connection: Connection, edition_id: int, domain: str) -> int:
    """The edition's messages to ``domain`` that reached the relay's answer: sent or refused."""
    return (
        connection.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(
                Delivery.edition_id == edition_id,
                Delivery.domain == domain,
                Delivery.status.in_((DeliveryStatus.SENT, DeliveryStatus.FAILED)),
            )
        )
        or 0
    )


def at(domain: str) -> ColumnElement[bool]:
    return Subscriber.email.endswith(f"@{domain}", autoescape=True)


def domain_of(email: str) -> str:
    return email.rpartition("@")[2].lower()
