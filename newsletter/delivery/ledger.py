"""The per-recipient ledger: claim work under a lease, write results back in batches.

A sender *claims* a batch of deliveries by setting them to ``sending`` with
``claimed_by = "host:pid"`` and ``claimed_at``; only then does it send them. So after a
crash the ledger knows exactly which messages may have gone out unrecorded: the rows
still in ``sending``. They return to the queue when their lease expires, or at once when a
sender on the same host sees that the owning process is gone. At most the rows claimed
and not yet recorded can be sent twice; the engine keeps that number small.

Every statement here touches a whole batch: one claim, one skip, one update per outcome
(per retry step for deferrals; the sent rows' update is one executemany, as each row
gets its own Message-ID), so the database keeps up with thousands of messages a
second. On PostgreSQL the claim uses ``FOR UPDATE SKIP LOCKED`` so that several senders
can share an edition without waiting for each other; SQLite serialises writers anyway.
"""

from __future__ import annotations

import os
import re
import socket
import typing
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)

from newsletter.config import Settings
from newsletter.db.models import (
    Delivery,
    DeliveryStatus,
    Edition,
    EditionStatus,
    Event,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from newsletter.delivery.attempt import Attempt, Outcome
from newsletter.mail.signing import MAC_PATTERN, ShortMac

_deliveries = typing.cast(Table, Delivery.__table__)
_subscribers = typing.cast(Table, Subscriber.__table__)
_events = typing.cast(Table, Event.__table__)
_NOT_ACTIVE_REPLY = "not sent: subscriber no longer active"
_MESSAGE_ID_SALT = b"newsletter.message-id:"
_NUMBER = r"[1-9][0-9]{0,17}"
_MESSAGE_ID = re.compile(rf"<({_NUMBER})\.({_NUMBER})\.({MAC_PATTERN})@([^<>@\s]+)>")


def owner_identity() -> str:
    """Who holds a lease: this host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: first, 2×first, 4×first... until a wait would exceed ``longest``."""

    first: timedelta
    longest: timedelta

    def delay_after(self, attempts: int) -> timedelta | None:
        """Wait before the next try after ``attempts`` failed tries; None means give up."""
        delay = self.first * (2 ** max(attempts - 1, 0))
        return delay if delay <= self.longest else None


@dataclass(frozen=True, slots=True)
class Claim:
    delivery_id: int
    subscriber_id: int
    email: str
    name: str | None
    attempts: int


@dataclass(frozen=True, slots=True)
class Result:
    claim: Claim
    attempt: Attempt


class MessageIds:
    """Our Message-IDs, ``<edition.subscriber.MAC@domain>``: made here, and read here only.

    MAC signs ``edition.subscriber`` under the secret key with a salt of its own
    (:class:`~newsletter.mail.signing.ShortMac`: 64 bits, 13 characters of ``a-z2-7``),
    so a reader who sees their own Message-ID cannot write anyone else's. It is the same
    every time a message is made: a copy sent twice after a crash carries the same
    Message-ID, which lets mail clients fold the duplicates together. The ledger records
    it per row when the message is sent.

    The Message-IDs of editions sent before the MAC (``<edition.subscriber.stamp@domain>``,
    a timestamp anyone could copy) are not ours any more: :meth:`read` refuses them.
    """

    def __init__(self, secret: str, domain: str) -> None:
        self._mac = ShortMac(secret, _MESSAGE_ID_SALT)
        self.domain = domain

    def make(self, edition_id: int, subscriber_id: int) -> str:
        pair = f"{edition_id}.{subscriber_id}"
        return f"<{pair}.{self._mac.sign(pair)}@{self.domain}>"

    def read(self, message_id: str) -> tuple[int, int] | None:
        """(edition, subscriber) of a Message-ID we made; None for anything else (not
        our form or our domain, a MAC that does not verify, a stamp of old)."""
        match = _MESSAGE_ID.fullmatch(message_id.strip())
        if match is None or match[4].lower() != self.domain.lower():
            return None
        edition, subscriber, mac = match[1], match[2], match[3]
        if not self._mac.verifies(f"{edition}.{subscriber}", mac):
            return None
        return int(edition), int(subscriber)

    def of_edition(self, edition_id: int) -> EditionMessageIds:
        return EditionMessageIds(self, edition_id)


@dataclass(frozen=True)
class EditionMessageIds:
    """The Message-IDs of one edition, by subscriber: what compose and the ledger need."""

    ids: MessageIds
    edition_id: int

    def for_subscriber(self, subscriber_id: int) -> str:
        return self.ids.make(self.edition_id, subscriber_id)


def message_ids(settings: Settings) -> MessageIds:
    """This installation's Message-IDs: the secret key's MAC, ``from_address``'s domain."""
    domain = settings.newsletter.from_address.rpartition("@")[2]
    return MessageIds(settings.signing_key(), domain)


@dataclass(frozen=True)
class SoftBouncePolicy:
    """A reader with a 4xx soft bounce in ``limit`` of their last ``window`` editions, none
    delivered since, is ``bounced``; so is one whose every retry of a 4xx failed."""

    limit: int = 3
    window: int = 5

    def reason(self, count: int) -> str:
        return f"temporary failures in {count} of the last {self.window} editions"


def soft_bounces_adding_up(
    connection: Connection, subscriber_ids: Iterable[int], policy: SoftBouncePolicy
) -> dict[int, int]:
    """The one soft-bounce rule, for the send (SMTP replies) and for late reports alike:
    of ``subscriber_ids``, those with a soft bounce in ``limit`` of their last ``window``
    editions, and how many.

    A reader's editions are counted newest first. An edition counts when its delivery is
    marked ``soft_bounce`` (a 4xx during the send that no retry got past, or a late soft
    report); the count stops at the newest edition delivered without one: a delivered
    edition resets it.
    """
    ids = list(subscriber_ids)
    if not ids:
        return {}
    rows = connection.execute(
        select(Delivery.subscriber_id, Delivery.status, Delivery.soft_bounce)
        .where(Delivery.subscriber_id.in_(ids))
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


@dataclass
class RecordTally:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    bounced: int = 0


class Ledger:
    """The deliveries of one edition, seen by one sender (``owner``)."""

    def __init__(
        self,
        engine: Engine,
        edition_id: int,
        *,
        lease: timedelta,
        retry: RetryPolicy,
        message_ids: EditionMessageIds,
        owner: str | None = None,
        soft_bounces: SoftBouncePolicy | None = None,
    ) -> None:
        self._engine = engine
        self._edition_id = edition_id
        self._lease = lease
        self._retry = retry
        self._message_ids = message_ids
        self.owner = owner or owner_identity()
        self._soft_bounces = soft_bounces or SoftBouncePolicy()
        self._postgres = engine.dialect.name == "postgresql"

    def reclaim_abandoned(self) -> int:
        """Put back rows whose owner is dead on this host (or is this very pid, reused).

        Called before a sender starts: this process has claimed nothing yet, so rows
        carrying its own identity were left by an earlier process that had the same pid
        (common in containers, where every run is pid 1 or close to it).
        """
        host = socket.gethostname()
        with self._engine.begin() as connection:
            owners = connection.scalars(
                select(Delivery.claimed_by)
                .where(
                    Delivery.edition_id == self._edition_id,
                    Delivery.status == DeliveryStatus.SENDING,
                )
                .distinct()
            ).all()
            dead = [
                owner
                for owner in owners
                if owner
                and owner.rpartition(":")[0] == host
                and (owner == self.owner or not _alive(owner))
            ]
            if not dead:
                return 0
            result = connection.execute(
                update(_deliveries)
                .where(
                    Delivery.edition_id == self._edition_id,
                    Delivery.status == DeliveryStatus.SENDING,
                    Delivery.claimed_by.in_(dead),
                )
                .values(status=DeliveryStatus.QUEUED, claimed_at=None, claimed_by=None)
            )
            return int(result.rowcount)

    def count_due(self) -> int:
        """Rows a sender could take now: queued, deferred and due, or with a lapsed lease."""
        now = utcnow()
        with self._engine.connect() as connection:
            return int(
                connection.scalar(
                    select(func.count())
                    .select_from(_deliveries)
                    .where(
                        Delivery.edition_id == self._edition_id,
                        or_(Delivery.status == DeliveryStatus.QUEUED, self._retry_due(now)),
                    )
                )
                or 0
            )

    def _retry_due(self, now: datetime) -> ColumnElement[bool]:
        """Deferred rows whose wait is over, and rows whose owner let the lease lapse."""
        return or_(
            and_(Delivery.status == DeliveryStatus.DEFERRED, Delivery.next_attempt_at <= now),
            and_(
                Delivery.status == DeliveryStatus.SENDING, Delivery.claimed_at < now - self._lease
            ),
        )

    def claim(self, limit: int) -> tuple[list[Claim], int]:
        """Claim up to ``limit`` deliveries; returns them and how many were skipped.

        Queued rows first (one index range); only when none are left, deferred rows that
        are due and rows whose lease lapsed. Subscribers who are no longer active are
        skipped here, at the last moment before sending, with one UPDATE.
        """
        now = utcnow()
        with self._engine.begin() as connection:
            if not self._edition_is_sending(connection):
                return [], 0
            ids = self._claim_where(
                connection, Delivery.status == DeliveryStatus.QUEUED, limit, now
            )
            if not ids:
                ids = self._claim_where(connection, self._retry_due(now), limit, now)
            if not ids:
                return [], 0
            rows = connection.execute(
                select(
                    Delivery.id,
                    Delivery.subscriber_id,
                    Delivery.attempts,
                    Subscriber.email,
                    Subscriber.name,
                    Subscriber.status,
                )
                .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
                .where(Delivery.id.in_(ids))
                .order_by(Delivery.id)
            ).all()
            claims: list[Claim] = []
            inactive: list[int] = []
            for delivery_id, subscriber_id, attempts, email, name, status in rows:
                if status != SubscriberStatus.ACTIVE or email is None:
                    inactive.append(delivery_id)
                else:
                    claims.append(Claim(delivery_id, subscriber_id, email, name, attempts))
            if inactive:
                connection.execute(
                    update(_deliveries)
                    .where(Delivery.id.in_(inactive))
                    .values(
                        status=DeliveryStatus.SKIPPED,
                        claimed_at=None,
                        claimed_by=None,
                        last_reply=_NOT_ACTIVE_REPLY,
                    )
                )
            return claims, len(inactive)

    def _edition_is_sending(self, connection: Connection) -> bool:
        status = connection.scalar(select(Edition.status).where(Edition.id == self._edition_id))
        return status == EditionStatus.SENDING

    def _claim_where(
        self, connection: Connection, condition: ColumnElement[bool], limit: int, now: datetime
    ) -> list[int]:
        candidates = (
            select(Delivery.id)
            .where(Delivery.edition_id == self._edition_id, condition)
            .limit(limit)
        )
        if self._postgres:
            candidates = candidates.with_for_update(skip_locked=True)
        result = connection.execute(
            update(_deliveries)
            .where(Delivery.id.in_(candidates.scalar_subquery()))
            .values(status=DeliveryStatus.SENDING, claimed_at=now, claimed_by=self.owner)
            .returning(Delivery.id)
        )
        return list(result.scalars())

    def renew_lease(self) -> None:
        """Keep our in-flight rows ours while a slow (throttled) send works through them."""
        with self._engine.begin() as connection:
            connection.execute(
                update(_deliveries)
                .where(
                    Delivery.edition_id == self._edition_id,
                    Delivery.status == DeliveryStatus.SENDING,
                    Delivery.claimed_by == self.owner,
                )
                .values(claimed_at=utcnow())
            )

    def release(self, claims: Sequence[Claim]) -> None:
        """Give back claimed rows that were never tried (the relay became unreachable)."""
        if not claims:
            return
        with self._engine.begin() as connection:
            connection.execute(
                update(_deliveries)
                .where(
                    Delivery.id.in_([claim.delivery_id for claim in claims]),
                    Delivery.status == DeliveryStatus.SENDING,
                    Delivery.claimed_by == self.owner,
                )
                .values(status=DeliveryStatus.QUEUED, claimed_at=None, claimed_by=None)
            )

    def record(self, results: Sequence[Result]) -> RecordTally:
        """Write a batch of outcomes: one UPDATE per outcome (and per retry step); the
        sent rows' one is an executemany, with each row's Message-ID."""
        tally = RecordTally()
        if not results:
            return tally
        now = utcnow()
        sent: list[Claim] = []
        # (status, attempts after this one, reply, soft bounce) -> delivery ids
        unsent: dict[tuple[str, int, str, bool], list[int]] = defaultdict(list)
        bounced: list[_Bounce] = []
        soft: list[Result] = []
        for result in results:
            attempt = result.attempt
            if attempt.outcome == Outcome.SENT:
                sent.append(result.claim)
                continue
            attempts = result.claim.attempts + 1
            retry = attempt.outcome == Outcome.DEFERRED
            status: str = DeliveryStatus.FAILED
            if retry and self._retry.delay_after(attempts) is not None:
                status = DeliveryStatus.DEFERRED
            key = (status, attempts, attempt.reply, attempt.soft_bounce)
            unsent[key].append(result.claim.delivery_id)
            if attempt.bounced:
                bounced.append(_Bounce(result, "the address does not exist", "hard"))
            elif attempt.soft_bounce and status == DeliveryStatus.FAILED:
                bounced.append(_Bounce(result, "a temporary failure on every retry", "soft"))
            elif attempt.soft_bounce:
                soft.append(result)
        with self._engine.begin() as connection:
            if sent:
                connection.execute(
                    update(_deliveries)
                    .where(Delivery.id == bindparam("sent_id"))
                    .values(
                        status=DeliveryStatus.SENT,
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
                            "sent_message_id": self._message_ids.for_subscriber(
                                claim.subscriber_id
                            ),
                        }
                        for claim in sent
                    ],
                )
                tally.sent = len(sent)
            for (status, attempts, reply, soft_bounce), ids in unsent.items():
                delay = self._retry.delay_after(attempts)
                values: dict[str, object] = {
                    "status": status,
                    "attempts": Delivery.attempts + 1,
                    "next_attempt_at": now + delay
                    if status == DeliveryStatus.DEFERRED and delay
                    else None,
                    "claimed_at": None,
                    "claimed_by": None,
                    "last_reply": reply[:1000],
                }
                if soft_bounce:
                    values["soft_bounce"] = True
                connection.execute(
                    update(_deliveries)
                    .where(
                        Delivery.id.in_(ids),
                        Delivery.status == DeliveryStatus.SENDING,
                        Delivery.claimed_by == self.owner,
                    )
                    .values(values)
                )
                if status == DeliveryStatus.DEFERRED:
                    tally.deferred += len(ids)
                else:
                    tally.failed += len(ids)
            if soft:
                bounced.extend(self._soft_bounces_adding_up(connection, soft))
            if bounced:
                tally.bounced = self._mark_bounced(connection, bounced, now)
        return tally

    def _soft_bounces_adding_up(
        self, connection: Connection, soft: Sequence[Result]
    ) -> list[_Bounce]:
        """Readers whose soft bounce now makes ``limit`` of their last ``window`` editions."""
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
        """Never mail these readers again, and say why in the event log."""
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
        connection.execute(
            update(_subscribers)
            .where(Subscriber.id.in_(still_active))
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
        return len(still_active)


@dataclass(frozen=True, slots=True)
class _Bounce:
    result: Result
    reason: str
    type: str  # "hard" (the address does not exist) or "soft" (temporary failures)


def _alive(owner: str) -> bool:
    pid = owner.rpartition(":")[2]
    return not pid.isdigit() or _process_alive(int(pid))
