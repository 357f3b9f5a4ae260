"""What became of the claimed deliveries, written back to the ledger a batch at a time.

A batch of results is first sorted by the statement that will write it (pure: one list
of sent rows, one group per status and retry step, the readers who bounced), then
written: the sent rows in one executemany (each gets its own Message-ID), one UPDATE per
group, and the bounced readers marked in one more, so the database keeps up with
thousands of messages a second. The soft-bounce rule lives here too, as the send is where
most soft bounces are seen; late reports of returned mail apply the same rule.
"""

from __future__ import annotations

import typing
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import Connection, Table, bindparam, func, insert, or_, select, update

from newsletter.config import BouncesSection, SmtpSection
from newsletter.db import states
from newsletter.db.models import (
    Delivery,
    DeliveryStatus,
    Edition,
    Event,
    Subscriber,
    SubscriberStatus,
)
from newsletter.delivery.attempt import Attempt, Outcome
from newsletter.delivery.domain_hold import (
    HARD,
    HELD,
    SuspectPolicy,
    domain_of,
    hard_readers,
    mail_to,
)
from newsletter.delivery.message_ids import EditionMessageIds

_deliveries = typing.cast(Table, Delivery.__table__)
_subscribers = typing.cast(Table, Subscriber.__table__)
_events = typing.cast(Table, Event.__table__)


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery a sender holds under its lease, with what it needs to send it."""

    delivery_id: int
    subscriber_id: int
    email: str
    name: str | None
    attempts: int


@dataclass(frozen=True, slots=True)
class Result:
    claim: Claim
    attempt: Attempt


@dataclass
class RecordTally:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    bounced: int = 0


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: first, 2×first, 4×first... until a wait would exceed ``longest``."""

    first: timedelta
    longest: timedelta

    @classmethod
    def of(cls, smtp: SmtpSection) -> RetryPolicy:
        return cls(
            first=timedelta(minutes=smtp.retry_first_minutes),
            longest=timedelta(hours=smtp.retry_max_hours),
        )

    def delay_after(self, attempts: int) -> timedelta | None:
        """Wait before the next try after ``attempts`` failed tries; None means give up."""
        delay = self.first * (2 ** max(attempts - 1, 0))
        return delay if delay <= self.longest else None


@dataclass(frozen=True)
class SoftBouncePolicy:
    """A reader with a 4xx soft bounce in ``limit`` of their last ``window`` editions, none
    delivered since, is ``bounced``; so is one whose every retry of a 4xx failed."""

    limit: int = 3
    window: int = 5

    @classmethod
    def of(cls, bounces: BouncesSection) -> SoftBouncePolicy:
        return cls(bounces.soft_limit, bounces.soft_window)

    def reason(self, count: int) -> str:
        return f"temporary failures in {count} of the last {self.window} editions"


def soft_bounces_adding_up(
    connection: Connection, subscriber_ids: Iterable[int], policy: SoftBouncePolicy
) -> dict[int, int]:
    """The one soft-bounce rule, for the send (SMTP replies) and for late reports alike:
    of ``subscriber_ids``, those with a soft bounce in ``limit`` of their last ``window``
    editions, and how many.

    A reader's editions are counted newest first. An edition counts when its delivery is
    marked ``soft_bounce`` (a 4xx during the send that no retry got past, a 5xx of the
    reader's side such as a full mailbox, or a late soft report); the count stops at the
    newest edition delivered without one: a delivered edition resets it, and so does
    bringing the reader back (``subscribers reactivate``): the editions made before their
    last reactivation are not counted, so the marks that dropped them do not drop them
    again at the next soft bounce, and the ledger keeps its history.
    """
    ids = list(subscriber_ids)
    if not ids:
        return {}
    reactivated = (
        select(Event.subscriber_id, func.max(Event.occurred_at).label("at"))
        .where(Event.kind == "reactivate", Event.subscriber_id.in_(ids))
        .group_by(Event.subscriber_id)
        .subquery()
    )
    rows = connection.execute(
        select(Delivery.subscriber_id, Delivery.status, Delivery.soft_bounce)
        .join(Edition, Edition.id == Delivery.edition_id)
        .outerjoin(reactivated, reactivated.c.subscriber_id == Delivery.subscriber_id)
        .where(
            Delivery.subscriber_id.in_(ids),
            or_(reactivated.c.at.is_(None), Edition.created_at > reactivated.c.at),
        )
        .order_by(Delivery.subscriber_id, Delivery.edition_id.desc())
    )
    seen: dict[int, int] = defaultdict(int)
    counted: dict[int, int] = defaultdict(int)
    stopped: set[int] = set()
    for subscriber_id, status, soft_bounce in rows:
        if subscriber_id in stopped or seen[subscriber_id] >= policy.window:
            continue
        seen[subscriber_id] += 1
        if soft_bounce:
            counted[subscriber_id] += 1
        elif status == DeliveryStatus.SENT:
            stopped.add(subscriber_id)
    return {
        subscriber_id: count for subscriber_id, count in counted.items() if count >= policy.limit
    }


@dataclass(frozen=True, slots=True)
class _Bounce:
    result: Result
    reason: str
    # "hard" (the address does not exist), "soft" (temporary failures) or "suspect" (a
    # hard one held by the suspect rule: the reader stays active)
    type: str


# The rows one UPDATE writes alike: (status, attempts after this one, reply, soft bounce).
_Step = tuple[DeliveryStatus, int, str, bool]


@dataclass
class _Sorted:
    """A batch of results, sorted by the statement that writes them."""

    sent: list[Claim] = field(default_factory=list)
    unsent: dict[_Step, list[int]] = field(default_factory=lambda: defaultdict(list))
    bounced: list[_Bounce] = field(default_factory=list)
    soft: list[Result] = field(default_factory=list)  # may add up to a bounce

    @classmethod
    def of(cls, results: Sequence[Result], retry: RetryPolicy) -> _Sorted:
        batch = cls()
        for result in results:
            attempt = result.attempt
            if attempt.outcome == Outcome.SENT:
                batch.sent.append(result.claim)
                continue
            attempts = result.claim.attempts + 1
            status = DeliveryStatus.FAILED
            if attempt.outcome == Outcome.DEFERRED and retry.delay_after(attempts) is not None:
                status = DeliveryStatus.DEFERRED
            # A 4xx on every retry; a 5xx soft bounce (a full mailbox) only adds up.
            gave_up = attempt.outcome == Outcome.DEFERRED and status == DeliveryStatus.FAILED
            step = (status, attempts, attempt.reply, attempt.soft_bounce)
            batch.unsent[step].append(result.claim.delivery_id)
            if attempt.bounced:
                batch.bounced.append(_Bounce(result, "the address does not exist", "hard"))
            elif attempt.soft_bounce and gave_up:
                batch.bounced.append(_Bounce(result, "a temporary failure on every retry", "soft"))
            elif attempt.soft_bounce:
                batch.soft.append(result)
        return batch


class OutcomeWriter:
    """Writes one sender's (``owner``'s) results of one edition into the ledger."""

    def __init__(
        self,
        edition_id: int,
        owner: str,
        *,
        retry: RetryPolicy,
        message_ids: EditionMessageIds,
        soft_bounces: SoftBouncePolicy,
        suspect: SuspectPolicy,
    ) -> None:
        self._edition_id = edition_id
        self._owner = owner
        self._retry = retry
        self._message_ids = message_ids
        self._soft_bounces = soft_bounces
        self._suspect = suspect

    def write(
        self, connection: Connection, results: Sequence[Result], now: datetime
    ) -> RecordTally:
        batch = _Sorted.of(results, self._retry)
        tally = RecordTally()
        if batch.sent:
            tally.sent = self._write_sent(connection, batch.sent, now)
        for step, ids in batch.unsent.items():
            self._write_unsent(connection, step, ids, now)
            if step[0] == DeliveryStatus.DEFERRED:
                tally.deferred += len(ids)
            else:
                tally.failed += len(ids)
        bounced = self._held(connection, batch.bounced)
        bounced += self._soft_bounces_adding_up(connection, batch.soft)
        if bounced:
            tally.bounced = self._mark_bounced(connection, bounced, now)
        return tally

    def _write_sent(self, connection: Connection, sent: Sequence[Claim], now: datetime) -> int:
        """Sent is sent, whatever became of the claim since (a lapsed lease, a reclaim):
        these rows are written without a condition on their status."""
        connection.execute(
            update(_deliveries)
            .where(Delivery.id == bindparam("sent_id"))
            .values(
                status=states.DELIVERY.check(DeliveryStatus.SENDING, DeliveryStatus.SENT),
                attempts=Delivery.attempts + 1,
                sent_at=now,
                next_attempt_at=None,
                claimed_at=None,
                claimed_by=None,
                last_reply=None,
                soft_bounce=False,  # a retry delivered it: no soft bounce after all
                message_id=bindparam("sent_message_id"),
            ),
            [
                {
                    "sent_id": claim.delivery_id,
                    "sent_message_id": self._message_ids.for_subscriber(claim.subscriber_id),
                }
                for claim in sent
            ],
        )
        return len(sent)

    def _write_unsent(
        self, connection: Connection, step: _Step, ids: Sequence[int], now: datetime
    ) -> None:
        status, attempts, reply, soft_bounce = step
        delay = self._retry.delay_after(attempts)
        values: dict[str, object] = {
            "attempts": Delivery.attempts + 1,
            "next_attempt_at": now + delay if status == DeliveryStatus.DEFERRED and delay else None,
            "claimed_at": None,
            "claimed_by": None,
            "last_reply": reply[:1000],
        }
        if soft_bounce:
            values["soft_bounce"] = True
        connection.execute(
            states.move_deliveries(DeliveryStatus.SENDING, status)
            .where(Delivery.id.in_(ids), Delivery.claimed_by == self._owner)
            .values(values)
        )

    def _held(self, connection: Connection, bounced: Sequence[_Bounce]) -> list[_Bounce]:
        """The hard refusals that take their domain past the suspect rule are held, not
        dropped: counted after this batch's rows are written, with the edition's hard
        bounces at the domain so far, in the order the relay answered."""
        hard: dict[str, int] = {}
        mail: dict[str, int] = {}
        judged = []
        for bounce in bounced:
            if bounce.type == HARD:
                domain = domain_of(bounce.result.claim.email)
                if domain not in hard:
                    hard[domain] = len(hard_readers(connection, self._edition_id, domain))
                    mail[domain] = mail_to(connection, self._edition_id, domain)
                hard[domain] += 1
                if self._suspect.holds(hard[domain], mail[domain]):
                    bounce = replace(bounce, type=HELD)
            judged.append(bounce)
        return judged

    def _soft_bounces_adding_up(
        self, connection: Connection, soft: Sequence[Result]
    ) -> list[_Bounce]:
        """Readers whose soft bounce now makes ``limit`` of their last ``window`` editions."""
        if not soft:
            return []
        policy = self._soft_bounces
        by_subscriber = {result.claim.subscriber_id: result for result in soft}
        counted = soft_bounces_adding_up(connection, by_subscriber, policy)
        return [
            _Bounce(by_subscriber[subscriber_id], policy.reason(count), "soft")
            for subscriber_id, count in counted.items()
        ]

    def _mark_bounced(
        self, connection: Connection, bounced: Sequence[_Bounce], now: datetime
    ) -> int:
        """Never mail these readers again (the held ones stay), and say why in the event
        log; how many were dropped."""
        ids = [bounce.result.claim.subscriber_id for bounce in bounced]
        still_active = set(
            connection.scalars(
                select(Subscriber.id).where(
                    Subscriber.id.in_(ids), Subscriber.status == SubscriberStatus.ACTIVE
                )
            )
        )
        if not still_active:
            return 0
        dropped = still_active & {b.result.claim.subscriber_id for b in bounced if b.type != HELD}
        if dropped:
            connection.execute(
                update(_subscribers)
                .where(Subscriber.id.in_(dropped))
                .values(status=SubscriberStatus.BOUNCED)
            )
        connection.execute(
            insert(_events),
            [
                {
                    "occurred_at": now,
                    "kind": "bounce",
                    "actor": "sender",
                    "subscriber_id": bounce.result.claim.subscriber_id,
                    "edition_id": self._edition_id,
                    "detail": {
                        "type": bounce.type,
                        "reply": bounce.result.attempt.reply,
                        "reason": bounce.reason,
                    },
                }
                for bounce in bounced
                if bounce.result.claim.subscriber_id in still_active
            ],
        )
        return len(dropped)
