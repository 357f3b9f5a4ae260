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
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.db.models import Post as PostRow
from newsletter.db.post_queue import document
from newsletter.delivery import bounces, editions
from newsletter.delivery.attempt import Attempt, Outcome
from newsletter.delivery.compose import Composer
from newsletter.delivery.ledger import Claim, Ledger, MessageIds, RecordTally, Result, RetryPolicy
from newsletter.delivery.throttle import Throttle
from newsletter.delivery.transport import Lane, open_lanes
from newsletter.errors import InputError, RenderError
from newsletter.mail.render import RenderedEdition, render_edition
from newsletter.mail.verp import ReturnPaths, return_paths

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_editions_in_progress: set[int] = set()
_in_progress_lock = threading.Lock()


@dataclass(frozen=True)
class SendOptions:
    """``stop``: when set (by a scheduler shutting down), claim nothing more, finish the
    messages in flight, record them and give the rest back to the queue."""

    batch_size: int = 200
    flush_seconds: float = 0.25
    stop: threading.Event | None = None


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
        }


ProgressCallback = Callable[[Progress], None]


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        first=timedelta(minutes=settings.smtp.retry_first_minutes),
        longest=timedelta(hours=settings.smtp.retry_max_hours),
    )


def message_ids(settings: Settings, edition_id: int, created_at: datetime) -> MessageIds:
    domain = settings.newsletter.from_address.rpartition("@")[2]
    return MessageIds(edition_id, created_at.strftime("%Y%m%d%H%M%S"), domain)


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
    with database.session() as session:
        edition = editions.start_sending(session, edition_id)
        post = session.get(PostRow, edition.post_id)
        assert post is not None
        ids = message_ids(settings, edition_id, edition.created_at)
        if rendered is None:
            rendered = render_edition(document(post), settings)
    composer = Composer(rendered, settings, ids)
    ledger = Ledger(
        database.engine,
        edition_id,
        lease=timedelta(minutes=settings.smtp.lease_minutes),
        retry=retry_policy(settings),
        message_ids=ids,
    )
    reclaimed = ledger.reclaim_abandoned()
    if reclaimed:
        log.info("edition %d: took back %d messages of a sender that died", edition_id, reclaimed)
    total = ledger.count_due()
    started = time.perf_counter()
    sender = _Sender(
        ledger=ledger,
        composer=composer,
        sender_address=settings.newsletter.from_address,
        return_paths=return_paths(settings),
        throttle=Throttle(settings.smtp.max_per_second or None),
        options=options,
        progress=progress,
        total=total,
        lease_seconds=settings.smtp.lease_minutes * 60,
    )
    lanes, close = open_lanes(settings)
    asyncio.run(sender.run(lanes, close))
    with database.session() as session:
        status = editions.finish_if_done(session, edition_id)
    tally = sender.tally
    if tally.bounced:
        bounces.check_limits(database, settings, edition_id)
    return SendSummary(
        edition_id=edition_id,
        status=status,
        transport=settings.transport,
        sent=tally.sent,
        deferred=tally.deferred,
        failed=tally.failed,
        skipped=sender.skipped,
        bounced=tally.bounced,
        seconds=time.perf_counter() - started,
        relay_unavailable=sender.relay_unavailable,
    )


@dataclass
class _Sender:
    ledger: Ledger
    composer: Composer
    sender_address: str
    return_paths: ReturnPaths | None
    throttle: Throttle
    options: SendOptions
    progress: ProgressCallback | None
    total: int
    lease_seconds: float
    tally: RecordTally = field(default_factory=RecordTally)
    skipped: int = 0
    relay_unavailable: bool = False
    _outstanding: int = 0
    _results: list[Result] = field(default_factory=list)
    _unsent: list[Claim] = field(default_factory=list)
    _connection_failures: int = 0
    _started: float = field(default_factory=time.perf_counter)
    _closing: bool = False

    async def run(self, lanes: Sequence[Lane], close: Callable[[], Any]) -> None:
        self._database = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger")
        self._queue: asyncio.Queue[Claim | None] = asyncio.Queue()
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
            while not self._queue.empty():
                claim = self._queue.get_nowait()
                if claim is not None:
                    self._unsent.append(claim)
            await self._flush()
            await self._in_database(self.ledger.release, list(self._unsent))
            self._database.shutdown()

    async def _in_database(self, function: Callable[..., _T], *args: Any) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._database, function, *args)

    async def _feed(self, lane_count: int) -> None:
        """Claim batches ahead of the lanes, at most two batches unrecorded at a time."""
        batch = self.options.batch_size
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
            for claim in claims:
                self._queue.put_nowait(claim)
        for _ in range(lane_count):
            self._queue.put_nowait(None)

    async def _work(self, lane: Lane) -> None:
        while (claim := await self._queue.get()) is not None:
            if self._should_stop():
                self._give_back(claim)
                continue
            delay = self.throttle.reserve()
            if delay > 0:
                await asyncio.sleep(delay)
            attempt = await self._attempt(lane, claim)
            if attempt.pushback:
                self.throttle.pushback()
            if attempt.connection_failed:
                self._connection_failures += 1
                if self._connection_failures >= self._failure_limit:
                    self.relay_unavailable = True
                    log.warning("the relay is unreachable (%s); stopping this run", attempt.reply)
            else:
                self._connection_failures = 0
            self._results.append(Result(claim, attempt))
            if len(self._results) >= self.options.batch_size // 2:
                await self._flush()

    def _should_stop(self) -> bool:
        stop = self.options.stop
        return self.relay_unavailable or (stop is not None and stop.is_set())

    def _give_back(self, claim: Claim) -> None:
        """A claim we will not try in this run: released to the queue at the end."""
        self._unsent.append(claim)
        self._outstanding -= 1
        self._room.set()

    async def _attempt(self, lane: Lane, claim: Claim) -> Attempt:
        try:
            recipient = self.composer.recipient(claim.subscriber_id, claim.email, claim.name)
            message = self.composer.compose(recipient, claim.subscriber_id, now=datetime.now(UTC))
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
