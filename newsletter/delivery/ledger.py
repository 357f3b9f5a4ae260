"""The per-recipient ledger: claim work under a lease, write results back in batches.

A sender *claims* a batch of deliveries by setting them to ``sending`` with
``claimed_by = "host:pid"`` and ``claimed_at``; only then does it send them. So after a
crash the ledger knows exactly which messages may have gone out unrecorded: the rows
still in ``sending``. They return to the queue when their lease expires, or at once when a
sender on the same host sees that the owning process is gone. At most the rows claimed
and not yet recorded can be sent twice; the engine keeps that number small. Which rows
are due and when a lease lapses is decided in :mod:`newsletter.db.states`, the same for
the ledger, the due-work job and ``status``.

Every statement here touches a whole batch: one claim, one skip, and the writes of
:mod:`newsletter.delivery.outcomes` for the results. On PostgreSQL the claim uses ``FOR
UPDATE SKIP LOCKED`` so that several senders can share an edition without waiting for
each other; SQLite serialises writers anyway.
"""

from __future__ import annotations

import os
import socket
import typing
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Engine, Table, select, update

from newsletter.config import BouncesSection
from newsletter.db import states
from newsletter.db.models import (
    Delivery,
    DeliveryStatus,
    Edition,
    EditionStatus,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from newsletter.delivery.domain_hold import SuspectPolicy
from newsletter.delivery.message_ids import EditionMessageIds
from newsletter.delivery.outcomes import (
    Claim,
    OutcomeWriter,
    RecordTally,
    Result,
    RetryPolicy,
    SoftBouncePolicy,
)

_deliveries = typing.cast(Table, Delivery.__table__)
_NOT_ACTIVE_REPLY = "not sent: subscriber no longer active"


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


class Ledger:
    """The deliveries of one edition, seen by one sender (``owner``).

    ``clock`` is the time claims and leases are measured in (tests stand at a lease's edge).
    """

    def __init__(
        self,
        engine: Engine,
        edition_id: int,
        *,
        lease: timedelta,
        retry: RetryPolicy,
        message_ids: EditionMessageIds,
        owner: str | None = None,
        bounces: BouncesSection | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self._edition_id = edition_id
        self._lease = lease
        self.owner = owner or owner_identity()
        self._clock = clock
        self._postgres = engine.dialect.name == "postgresql"
        self._outcomes = OutcomeWriter(
            edition_id,
            self.owner,
            retry=retry,
            message_ids=message_ids,
            soft_bounces=SoftBouncePolicy.of(bounces or BouncesSection()),
            suspect=SuspectPolicy.of(bounces or BouncesSection()),
        )

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
                .where(Delivery.edition_id == self._edition_id, states.in_flight())
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
                states.move_deliveries(DeliveryStatus.SENDING, DeliveryStatus.QUEUED)
                .where(Delivery.edition_id == self._edition_id, Delivery.claimed_by.in_(dead))
                .values(claimed_at=None, claimed_by=None)
            )
            return int(result.rowcount)

    def count_due(self) -> int:
        """Rows a sender could take now: queued, deferred and due, or with a lapsed lease."""
        with self._engine.connect() as connection:
            count = states.count_claimable(self._edition_id, self._clock(), self._lease)
            return int(connection.scalar(count) or 0)

    def claim(self, limit: int) -> tuple[list[Claim], int]:
        """Claim up to ``limit`` deliveries; returns them and how many were skipped.

        Queued rows first (one index range); only when none are left, deferred rows that
        are due and rows whose lease lapsed. Subscribers who are no longer active are
        skipped here, at the last moment before sending, with one UPDATE.
        """
        now = self._clock()
        with self._engine.begin() as connection:
            if not self._edition_is_sending(connection):
                return [], 0
            ids = self._claim_where(
                connection, Delivery.status == DeliveryStatus.QUEUED, limit, now
            )
            if not ids:
                ids = self._claim_where(connection, states.claimable(now, self._lease), limit, now)
            if not ids:
                return [], 0
            return self._skip_inactive(connection, ids)

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
            states.move_deliveries(
                (DeliveryStatus.QUEUED, DeliveryStatus.DEFERRED, DeliveryStatus.SENDING),
                DeliveryStatus.SENDING,
            )
            .where(Delivery.id.in_(candidates.scalar_subquery()))
            .values(claimed_at=now, claimed_by=self.owner)
            .returning(Delivery.id)
        )
        return list(result.scalars())

    def _skip_inactive(self, connection: Connection, ids: Sequence[int]) -> tuple[list[Claim], int]:
        """The claims of ``ids``, but for readers who left since the edition was made:
        their rows are skipped instead."""
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
                states.move_deliveries(DeliveryStatus.SENDING, DeliveryStatus.SKIPPED)
                .where(Delivery.id.in_(inactive))
                .values(claimed_at=None, claimed_by=None, last_reply=_NOT_ACTIVE_REPLY)
            )
        return claims, len(inactive)

    def renew_lease(self) -> None:
        """Keep our in-flight rows ours while a slow (throttled) send works through them."""
        with self._engine.begin() as connection:
            connection.execute(
                update(_deliveries)
                .where(
                    Delivery.edition_id == self._edition_id,
                    states.in_flight(),
                    Delivery.claimed_by == self.owner,
                )
                .values(claimed_at=self._clock())
            )

    def release(self, claims: Sequence[Claim]) -> None:
        """Give back claimed rows that were never tried (the relay became unreachable)."""
        if not claims:
            return
        with self._engine.begin() as connection:
            connection.execute(
                states.move_deliveries(DeliveryStatus.SENDING, DeliveryStatus.QUEUED)
                .where(
                    Delivery.id.in_([claim.delivery_id for claim in claims]),
                    Delivery.claimed_by == self.owner,
                )
                .values(claimed_at=None, claimed_by=None)
            )

    def record(self, results: Sequence[Result]) -> RecordTally:
        """Write a batch of outcomes (see :mod:`newsletter.delivery.outcomes`)."""
        if not results:
            return RecordTally()
        with self._engine.begin() as connection:
            return self._outcomes.write(connection, results, self._clock())


def _alive(owner: str) -> bool:
    pid = owner.rpartition(":")[2]
    return not pid.isdigit() or _process_alive(int(pid))
