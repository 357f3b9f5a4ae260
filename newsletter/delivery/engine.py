"""One run over one edition: start it, compose its messages, send what is due, sum it up.

:func:`send_edition` returns when nothing more can be sent now: every claimable row was
tried, or the relay is unreachable. Deferred rows wait for their retry time; calling it
again (``newsletter send --resume N`` or the scheduler) sends those that are due. The
edition becomes ``sent`` only when no row is queued, in flight or deferred. The sending
itself is :mod:`newsletter.delivery.send_loop`'s.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from newsletter.config import Settings
from newsletter.db import states
from newsletter.db.database import Database
from newsletter.db.models import EditionStatus
from newsletter.db.models import Post as PostRow
from newsletter.delivery import editions, event_loop
from newsletter.delivery.budget import Limits, SharedBudget, Waiting
from newsletter.delivery.contents import render_post
from newsletter.delivery.dkim import dkim_signer
from newsletter.delivery.ledger import Ledger
from newsletter.delivery.message_ids import EditionMessageIds, message_ids
from newsletter.delivery.outcomes import RetryPolicy
from newsletter.delivery.send_loop import ProgressCallback, SendLoop, SendOptions
from newsletter.delivery.throttle import Throttle
from newsletter.delivery.transport import open_lanes
from newsletter.errors import InputError
from newsletter.mail.compose import Composer
from newsletter.mail.render import RenderedEdition
from newsletter.mail.verp import return_paths

log = logging.getLogger(__name__)

_editions_in_progress: set[int] = set()
_in_progress_lock = threading.Lock()


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
    loop = SendLoop(
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
    event_loop.run(loop.run(lanes, close))
    with database.session() as session:
        status = editions.finish_if_done(session, edition_id)
    if loop.waiting is not None:
        log.info("edition %d: %s", edition_id, loop.waiting.describe())
    return _summary(loop, edition_id, status, settings.transport, time.perf_counter() - started)


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


def _summary(
    loop: SendLoop, edition_id: int, status: str, transport: str, seconds: float
) -> SendSummary:
    return SendSummary(
        edition_id=edition_id,
        status=status,
        transport=transport,
        sent=loop.tally.sent,
        deferred=loop.tally.deferred,
        failed=loop.tally.failed,
        skipped=loop.skipped,
        bounced=loop.tally.bounced,
        seconds=seconds,
        relay_unavailable=loop.relay_unavailable,
        slowdowns=loop.throttle.cuts,
        recoveries=loop.throttle.recoveries,
        relay_rate=loop.throttle.ceiling,
        waiting=loop.waiting,
    )
