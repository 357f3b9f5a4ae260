"""A seeded history: weeks of readers joining and leaving, and an edition a week with its
deliveries, bounces, complaints and unsubscribes, as the parts that run write them. Each
edition's expected counts are kept in all and per receiving domain (``sent@example.org``).

The plan is plain arithmetic on the reader's and the edition's number, so a test knows
every figure without asking the code under test: :class:`History` keeps what the rows
mean (who was active when, what each edition should count).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from newsletter.db.database import Database
from newsletter.db.models import (
    BounceReport,
    Delivery,
    DeliveryStatus,
    Edition,
    EditionStatus,
    Event,
    Subscriber,
    SubscriberStatus,
)
from newsletter.db.models import Post as PostRow

READERS = 60


@dataclass
class Reader:
    number: int
    joined_at: datetime
    left_at: datetime | None = None
    left_as: str = SubscriberStatus.ACTIVE
    id: int = 0

    @property
    def email(self) -> str:
        return f"lezer{self.number}@{self.domain}"

    @property
    def domain(self) -> str:
        return DOMAINS[self.number % 2]

    def active_at(self, moment: datetime) -> bool:
        return self.joined_at <= moment and (self.left_at is None or self.left_at > moment)


DOMAINS = ("voorbeeld.nl", "example.org")


@dataclass
class History:
    base: datetime
    readers: list[Reader]
    edition_ids: list[int] = field(default_factory=list)
    expected: dict[int, Counter[str]] = field(default_factory=dict)

    def active_at(self, moment: datetime) -> int:
        return sum(reader.active_at(moment) for reader in self.readers)


def _plan(base: datetime) -> list[Reader]:
    readers = [Reader(r, base - timedelta(weeks=r % 24, days=3, hours=r)) for r in range(READERS)]
    for reader in readers:
        if reader.number % 5 == 0:
            left = reader.joined_at + timedelta(weeks=3, days=1)
            if left < base - timedelta(hours=1):
                reader.left_at, reader.left_as = left, SubscriberStatus.UNSUBSCRIBED
    return readers


def seed_history(database: Database, base: datetime, editions: int = 20) -> History:
    """``editions`` weekly editions up to ``base`` (the last started two hours before it)
    and :data:`READERS` readers; returns what the rows mean."""
    history = History(base, _plan(base))
    starts = [base - timedelta(weeks=editions - 1 - k, hours=2) for k in range(editions)]
    with database.session() as session:
        for reader in history.readers:
            row = Subscriber(
                email=reader.email,
                status=SubscriberStatus.ACTIVE,
                created_at=reader.joined_at,
                confirmed_at=reader.joined_at,
            )
            session.add(row)
            session.flush()
            reader.id = row.id
            session.add(
                Event(
                    occurred_at=reader.joined_at, kind="confirm", actor="web", subscriber_id=row.id
                )
            )
        for k, start in enumerate(starts):
            _edition(session, history, k, start, starts[k + 1] if k + 1 < editions else None)
        for reader in history.readers:
            subscriber = session.get(Subscriber, reader.id)
            assert subscriber is not None
            subscriber.status = reader.left_as
            if reader.left_as == SubscriberStatus.UNSUBSCRIBED:
                session.add(
                    Event(
                        occurred_at=reader.left_at,
                        kind="unsubscribe",
                        actor="link",
                        subscriber_id=reader.id,
                    )
                )
    return history


def _edition(
    session: Session, history: History, k: int, start: datetime, next_start: datetime | None
) -> None:
    post = PostRow(
        slug=f"stuk-{k}",
        title=f"Stuk {k}",
        source="handmade",
        content_hash=f"{k:064d}",
        document={},
        published_at=start - timedelta(days=10),
    )
    session.add(post)
    session.flush()
    edition = Edition(
        post_id=post.id,
        status=EditionStatus.SENT,
        subject=f"Stuk {k}",
        created_at=start,
        started_at=start,
        finished_at=start + timedelta(hours=1),
    )
    session.add(edition)
    session.flush()
    history.edition_ids.append(edition.id)
    counts: Counter[str] = Counter()
    for reader in history.readers:
        if not reader.active_at(start):
            continue
        counts["recipients"] += 1
        status = _status(reader.number + k)
        counts[status] += 1
        counts[f"{status}@{reader.domain}"] += 1
        soft = (reader.number + k) % 10 == 2
        counts["soft"] += soft
        counts[f"soft@{reader.domain}"] += soft
        session.add(
            Delivery(
                edition_id=edition.id,
                subscriber_id=reader.id,
                status=status,
                attempts=1,
                soft_bounce=soft,
                sent_at=start if status == DeliveryStatus.SENT else None,
                domain=reader.domain,
            )
        )
        session.flush()
        if status == DeliveryStatus.SENT:
            _returns(session, reader, k, start, edition.id, counts)
            unsubscribed = reader.left_as == SubscriberStatus.UNSUBSCRIBED and reader.left_at
            if (
                unsubscribed
                and start <= unsubscribed
                and (next_start is None or unsubscribed < next_start)
            ):
                counts["unsubscribes"] += 1
    edition.recipients = counts["recipients"]
    history.expected[edition.id] = counts


def _status(n: int) -> str:
    return {0: DeliveryStatus.DEFERRED, 1: DeliveryStatus.FAILED}.get(n % 10, DeliveryStatus.SENT)


def _returns(
    session: Session, reader: Reader, k: int, start: datetime, edition_id: int, counts: Counter[str]
) -> None:
    """A hard bounce for every 7th reader, a complaint for every 9th, each at the first
    edition it gets two weeks after joining; that reader is gone from then on."""
    if reader.left_at is not None and reader.left_as != SubscriberStatus.UNSUBSCRIBED:
        return
    if start < reader.joined_at + timedelta(weeks=2):
        return
    kind = "hard" if reader.number % 7 == 1 else "complaint" if reader.number % 9 == 2 else ""
    if not kind or (reader.left_at is not None and reader.left_at <= start):
        return
    when = start + timedelta(hours=1)
    status = SubscriberStatus.BOUNCED if kind == "hard" else SubscriberStatus.COMPLAINED
    reason, diagnostic = (
        ("userunknown", "550 5.1.1 user unknown")
        if kind == "hard"
        else ("abuse", "Feedback-Type: abuse")
    )
    report = BounceReport(
        received_at=when,
        fingerprint=f"{edition_id}-{reader.id}".ljust(64, "0"),
        source="mailbox",
        result=kind,
        reason=reason,
        diagnostic=diagnostic,
        domain=reader.domain,
        subscriber_id=reader.id,
        edition_id=edition_id,
    )
    session.add(report)
    session.flush()
    session.add(
        Event(
            occurred_at=when,
            kind="bounce" if kind == "hard" else "complaint",
            actor="mailbox",
            subscriber_id=reader.id,
            edition_id=edition_id,
            detail={
                "type": kind,
                "reason": reason,
                "report": report.id,
                "status_before": "active",
                "status_after": status,
            },
        )
    )
    counts["hard" if kind == "hard" else "complaints"] += 1
    counts[f"{'hard' if kind == 'hard' else 'complaints'}@{reader.domain}"] += 1
    reader.left_at, reader.left_as = when, status
