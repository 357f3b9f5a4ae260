"""The send loop: claim from the ledger, compose, hand to the relay, record, repeat.

One asyncio task per connection ("lane") sends; one task claims work ahead of the lanes;
one records results. All database work runs on a single helper thread, in batches, so a
commit never stalls the sockets and SQLite sees one writer. The number of rows claimed
but not yet recorded never exceeds ``2 × batch_size``: that is the most a crash can make
us send twice (the rows are reclaimed and sent again on resume).

The run around it (starting the edition, the composer, the limits, the summary) is
:mod:`newsletter.delivery.engine`'s.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from newsletter.db.models import utcnow
from newsletter.delivery.attempt import Attempt, Outcome
from newsletter.delivery.budget import SharedBudget, Waiting, chunk_size
from newsletter.delivery.claims import ClaimQueue
from newsletter.delivery.ledger import Ledger
from newsletter.delivery.outcomes import Claim, RecordTally, Result
from newsletter.delivery.throttle import Throttle, Tuning
from newsletter.delivery.transport import Lane
from newsletter.errors import RenderError
from newsletter.mail.compose import Composer
from newsletter.mail.verp import ReturnPaths

log = logging.getLogger(__name__)

_T = TypeVar("_T")


@dataclass(frozen=True)
class SendOptions:
    """``stop``: when set (by a scheduler shutting down), claim nothing more, finish the
    messages in flight, record them and give the rest back to the queue. ``throttle``:
    the brake's constants (tests make it recover quicker). ``clock``: the time the shared
    budget's windows, the claims, leases and retry times are counted in (the daemon's
    job passes its own ``now``; tests jump a day ahead)."""

    batch_size: int = 200
    flush_seconds: float = 0.25
    stop: threading.Event | None = None
    throttle: Tuning | None = None
    clock: Callable[[], datetime] = utcnow


@dataclass(frozen=True)
class Progress:
    total: int
    sent: int
    deferred: int
    failed: int
    skipped: int
    elapsed: float

    @property
    def done(self) -> int:
        return self.sent + self.deferred + self.failed + self.skipped


ProgressCallback = Callable[[Progress], None]


@dataclass
class SendLoop:
    """The lanes, the claimer and the recorder of one run over one edition."""

    ledger: Ledger
    composer: Composer
    sender_address: str
    return_paths: ReturnPaths | None
    throttle: Throttle
    budget: SharedBudget | None
    for_smtp: bool
    options: SendOptions
    progress: ProgressCallback | None
    total: int
    lease_seconds: float
    tally: RecordTally = field(default_factory=RecordTally)
    skipped: int = 0
    relay_unavailable: bool = False
    waiting: Waiting | None = None
    _outstanding: int = 0
    _results: list[Result] = field(default_factory=list)
    _unsent: list[Claim] = field(default_factory=list)
    _connection_failures: int = 0
    _started: float = field(default_factory=time.perf_counter)
    _closing: bool = False
    _slots: deque[float] = field(default_factory=deque)
    _grant_minute: int = 0

    async def run(self, lanes: Sequence[Lane], close: Callable[[], Any]) -> None:
        self._database = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger")
        self._budget_lock = asyncio.Lock()
        self._queue = ClaimQueue()
        self._room = asyncio.Event()
        self._failure_limit = max(3, 2 * len(lanes))
        tasks = [asyncio.create_task(self._work(lane)) for lane in lanes]
        flusher = asyncio.create_task(self._flush_periodically())
        try:
            await self._feed(len(lanes))
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            # The flusher is let finish, not cancelled: a cancel in the middle of a flush
            # would record the results in the database but lose them from the tally.
            self._closing = True
            await asyncio.gather(*tasks, flusher, return_exceptions=True)
            await close()
            self._unsent.extend(self._queue.drain())
            await self._flush()
            await self._in_database(self.ledger.release, list(self._unsent))
            if self.budget is not None and self._slots:
                await self._in_database(self.budget.give_back, len(self._slots), self._grant_minute)
            self._database.shutdown()

    async def _in_database(self, function: Callable[..., _T], *args: Any) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._database, function, *args)

    async def _feed(self, lane_count: int) -> None:
        """Claim batches ahead of the lanes, at most two batches unrecorded at a time."""
        batch = self._batch_size()
        while not self._should_stop():
            if self._outstanding > batch:
                self._room.clear()
                await self._room.wait()
                continue
            claims, skipped = await self._in_database(self.ledger.claim, batch)
            self.skipped += skipped
            if not claims:
                break
            self._outstanding += len(claims)
            self._queue.extend(claims)
        self._queue.extend([None] * lane_count)  # each lane stops at one

    async def _work(self, lane: Lane) -> None:
        while (claim := await self._queue.get()) is not None:
            if self._should_stop():
                self._give_back(claim)
                continue
            delay, booking = self.throttle.reserve(), self.throttle.bookings
            if delay > 0:
                await asyncio.sleep(delay)
            if not await self._permit():
                self._give_back(claim)
                continue
            attempt = await self._attempt(lane, claim)
            self.throttle.record(attempt.pushback, booking)
            if attempt.connection_failed:
                self._connection_failures += 1
                if self._connection_failures >= self._failure_limit:
                    self.relay_unavailable = True
                    log.warning("the relay is unreachable (%s); stopping this run", attempt.reply)
            else:
                self._connection_failures = 0
            if attempt.pushback and self._queue.put_back(claim):
                continue  # about us, not the reader: tried again first, in this run
            self._results.append(Result(claim, attempt))
            if len(self._results) >= self._batch_size() // 2:
                await self._flush()

    def _batch_size(self) -> int:
        """Under a per-second limit, a batch holds about two seconds of sending, so that
        senders sharing the edition each claim their part instead of one claiming ahead."""
        limits = self.budget.limits if self.budget is not None else None
        if limits is None or not limits.per_second:
            return self.options.batch_size
        return min(self.options.batch_size, max(10, math.ceil(2 * limits.per_second)))

    def _should_stop(self) -> bool:
        stop = self.options.stop
        return (
            self.relay_unavailable
            or self.waiting is not None
            or (stop is not None and stop.is_set())
        )

    async def _permit(self) -> bool:
        """Wait for this message's slot in the shared budget; False when it is spent.

        Slots are taken from the database a chunk at a time, by one lane at a time.
        """
        budget = self.budget
        if budget is None:
            return True
        async with self._budget_lock:
            if not self._slots:
                if self.waiting is not None:
                    return False
                grant = await self._in_database(budget.take, chunk_size(budget.limits))
                if not grant.count:
                    self.waiting = grant.waiting
                    return False
                self._grant_minute = grant.minute
                self._slots.extend(
                    grant.first_slot + n * grant.interval for n in range(grant.count)
                )
            slot = self._slots.popleft()
        delay = slot - budget.clock().timestamp()
        if delay > 0:
            await asyncio.sleep(delay)
        return True

    def _give_back(self, claim: Claim) -> None:
        """A claim we will not try in this run: released to the queue at the end."""
        self._unsent.append(claim)
        self._outstanding -= 1
        self._room.set()

    async def _attempt(self, lane: Lane, claim: Claim) -> Attempt:
        try:
            recipient = self.composer.recipient(claim.subscriber_id, claim.email, claim.name)
            message = self.composer.compose(
                recipient, claim.subscriber_id, now=datetime.now(UTC), for_smtp=self.for_smtp
            )
        except (RenderError, ValueError) as exc:
            # One subscriber's data (e.g. an address stored before validation was stricter)
            # must fail that one message, never the lane or the edition.
            return Attempt(Outcome.FAILED, f"cannot build the message: {exc}")
        sender = (
            self.return_paths.for_delivery(claim.delivery_id)
            if self.return_paths is not None
            else self.sender_address
        )
        return await lane.deliver(sender, claim.email, message)

    async def _flush_periodically(self) -> None:
        """Record results, and renew the lease for as long as claims are held: also after
        claiming has stopped, when a slow (throttled) relay still works through them."""
        renewed = time.monotonic()
        while not self._closing:
            await asyncio.sleep(self.options.flush_seconds)
            await self._flush()
            if self._outstanding and time.monotonic() - renewed > self.lease_seconds / 3:
                await self._in_database(self.ledger.renew_lease)
                renewed = time.monotonic()

    async def _flush(self) -> None:
        results, self._results = self._results, []
        if results:
            tally = await self._in_database(self.ledger.record, results)
            self.tally.sent += tally.sent
            self.tally.deferred += tally.deferred
            self.tally.failed += tally.failed
            self.tally.bounced += tally.bounced
            self._outstanding -= len(results)
            self._room.set()
        if self.progress is not None:
            self.progress(
                Progress(
                    total=self.total,
                    sent=self.tally.sent,
                    deferred=self.tally.deferred,
                    failed=self.tally.failed,
                    skipped=self.skipped,
                    elapsed=time.perf_counter() - self._started,
                )
            )
