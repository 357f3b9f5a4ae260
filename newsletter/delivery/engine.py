"""The send loop: claim from the ledger, compose, hand to the relay, record, repeat.

One asyncio task per connection ("lane") sends; one task claims work ahead of the lanes;
one records results. All database work runs on a single helper thread, in batches, so a
commit never stalls the sockets and SQLite sees one writer. The number of rows claimed
but not yet recorded never exceeds ``2 × batch_size``: that is the most a crash can make
us send twice (the rows are reclaimed and sent again on resume).

:func:`send_edition` returns when nothing more can be sent now: every claimable row was
tried, or the relay is unreachable. Deferred rows wait for their retry time; calling it
again (``newsletter send --resume N`` or the scheduler) sends those that are due. The
edition becomes ``sent`` only when no row is queued, in flight or deferred.
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

from newsletter.config import Settings
from newsletter.db import states
from newsletter.db.database import Database
from newsletter.db.models import EditionStatus, utcnow
from newsletter.db.models import Post as PostRow
from newsletter.delivery import editions
from newsletter.delivery.attempt import Attempt, Outcome
from newsletter.delivery.budget import Limits, SharedBudget, Waiting, chunk_size
from newsletter.delivery.claims import ClaimQueue
from newsletter.delivery.contents import render_post
from newsletter.delivery.dkim import dkim_signer
from newsletter.delivery.ledger import Ledger
from newsletter.delivery.message_ids import EditionMessageIds, message_ids
from newsletter.delivery.outcomes import (
    Claim,
    RecordTally,
    Result,
    RetryPolicy,
)
from newsletter.delivery.throttle import Throttle, Tuning
from newsletter.delivery.transport import Lane, open_lanes
from newsletter.errors import InputError, RenderError
from newsletter.mail.compose import Composer
from newsletter.mail.render import RenderedEdition
from newsletter.mail.verp import ReturnPaths, return_paths

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_editions_in_progress: set[int] = set()
_in_progress_lock = threading.Lock()


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


@dataclass(frozen=True)
class SendSummary:
    edition_id: int
    status: str
    transport: str
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    skipped: int = 0
    bounced: int = 0
    seconds: float = 0.0
    relay_unavailable: bool = False
    slowdowns: int = 0
    recoveries: int = 0
    relay_rate: float | None = None  # what the relay was found to accept, msgs/s
    waiting: Waiting | None = None

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "edition": self.edition_id,
            "status": self.status,
            "transport": self.transport,
            "sent": self.sent,
            "deferred": self.deferred,
            "failed": self.failed,
            "skipped": self.skipped,
            "bounced": self.bounced,
            "seconds": round(self.seconds, 3),
            "messages_per_second": round(self.rate, 1),
            "relay_unavailable": self.relay_unavailable,
            "slowdowns": self.slowdowns,
            "recoveries": self.recoveries,
            "relay_rate": round(self.relay_rate, 1) if self.relay_rate else None,
            "waiting": self.waiting.to_json() if self.waiting else None,
        }


ProgressCallback = Callable[[Progress], None]


def send_edition(
    database: Database,
    settings: Settings,
    edition_id: int,
    *,
    progress: ProgressCallback | None = None,
    options: SendOptions | None = None,
    rendered: RenderedEdition | None = None,
) -> SendSummary:
    """Send what is due of edition ``edition_id``; see the module docstring.

    ``rendered`` is the edition's post as the caller just rendered it (the publish
    service); without it the post is rendered here (a resumed or retried edition).
    """
    with _in_progress_lock:
        if edition_id in _editions_in_progress:
            raise InputError(f"edition {edition_id} is already being sent by this process")
        _editions_in_progress.add(edition_id)
    try:
        return _send(database, settings, edition_id, progress, options or SendOptions(), rendered)
    finally:
        with _in_progress_lock:
            _editions_in_progress.discard(edition_id)


def _send(
    database: Database,
    settings: Settings,
    edition_id: int,
    progress: ProgressCallback | None,
    options: SendOptions,
    rendered: RenderedEdition | None,
) -> SendSummary:
    composer, ids = _composer(database, settings, edition_id, rendered)
    paths = return_paths(settings.bounces, settings.signing_key)
    lease = states.lease_of(settings.smtp)
    limits = Limits.of(settings.smtp)
    budget = SharedBudget(database.engine, limits, clock=options.clock) if limits.any else None
    # With a shared per-second budget the database paces; the throttle only brakes.
    throttle = Throttle(
        None if budget and limits.per_second else settings.smtp.max_per_second or None,
        tuning=options.throttle,
    )
    ledger = Ledger(
        database.engine,
        edition_id,
        lease=lease,
        retry=RetryPolicy.of(settings.smtp),
        message_ids=ids,
        bounces=settings.bounces,
        clock=options.clock,
    )
    reclaimed = ledger.reclaim_abandoned()
    if reclaimed:
        log.info("edition %d: took back %d messages of a sender that died", edition_id, reclaimed)
    if budget is not None and (waiting := budget.waiting()) is not None:
        # The hour's or day's budget is spent: claim nothing, the edition waits.
        log.info("edition %d: %s", edition_id, waiting.describe())
        return SendSummary(edition_id, EditionStatus.SENDING, settings.transport, waiting=waiting)
    total = ledger.count_due()
    started = time.perf_counter()
    sender = _Sender(
        ledger=ledger,
        composer=composer,
        sender_address=settings.newsletter.from_address,
        return_paths=paths,
        throttle=throttle,
        budget=budget,
        for_smtp=settings.transport == "smtp",
        options=options,
        progress=progress,
        total=total,
        lease_seconds=lease.total_seconds(),
    )
    lanes, close = open_lanes(settings)
    asyncio.run(sender.run(lanes, close))
    with database.session() as session:
        status = editions.finish_if_done(session, edition_id)
    if sender.waiting is not None:
        log.info("edition %d: %s", edition_id, sender.waiting.describe())
    return sender.summary(edition_id, status, settings.transport, time.perf_counter() - started)


def _composer(
    database: Database,
    settings: Settings,
    edition_id: int,
    rendered: RenderedEdition | None,
) -> tuple[Composer, EditionMessageIds]:
    """Start the edition (a draft becomes ``sending``) and make its messages' composer,
    rendering the post unless the caller just did; with the Message-IDs it gives the
    messages, which the ledger records."""
    secret = settings.signing_key()  # without one, fail before the edition starts
    with database.session() as session:
        edition = editions.start_sending(session, edition_id)
        post = session.get(PostRow, edition.post_id)
        assert post is not None
        if rendered is None:
            rendered = render_post(session, settings.newsletter, post)
    signer = dkim_signer(settings.dkim, settings.dkim_private_key)
    ids = message_ids(settings).of_edition(edition_id)
    composer = Composer(rendered, settings.newsletter, ids, secret=secret, signer=signer)
    return composer, ids


@dataclass
class _Sender:
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

    def summary(self, edition_id: int, status: str, transport: str, seconds: float) -> SendSummary:
        return SendSummary(
            edition_id=edition_id,
            status=status,
            transport=transport,
            sent=self.tally.sent,
            deferred=self.tally.deferred,
            failed=self.tally.failed,
            skipped=self.skipped,
            bounced=self.tally.bounced,
            seconds=seconds,
            relay_unavailable=self.relay_unavailable,
            slowdowns=self.throttle.cuts,
            recoveries=self.throttle.recoveries,
            relay_rate=self.throttle.ceiling,
            waiting=self.waiting,
        )

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
