"""The two jobs the daemon runs: make this week's edition, and send whatever is due.

Both are plain functions of (database, settings, now) so tests drive them with an
injected clock; :func:`build_scheduler` only puts them on APScheduler's timetable.
"One edition per scheduled week" is decided by the database: every scheduled edition
carries its ISO week in ``editions.week_key`` (unique), so a restart, a second daemon,
a clock jump or a restored backup cannot make a second edition for the same week.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import exists, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.db.events import record_event
from newsletter.db.models import (
    Delivery,
    DeliveryStatus,
    Edition,
    EditionStatus,
    Event,
    utcnow,
)
from newsletter.delivery.attempt import Outcome
from newsletter.delivery.budget import Limits, SharedBudget
from newsletter.delivery.editions import hold
from newsletter.delivery.engine import SendOptions, SendSummary, send_edition
from newsletter.errors import InputError, NewsletterError
from newsletter.feeds.poll import poll_feeds
from newsletter.mail.render import RenderedEdition
from newsletter.publish import PreparedEdition, prepare_edition, send_test_copy
from newsletter.returns import limits
from newsletter.scheduling import alerts
from newsletter.scheduling.slots import due_slot, make_trigger

log = logging.getLogger(__name__)

WeeklyAction = Literal[
    "sent", "review", "held", "already made", "queue empty", "too late", "nothing due"
]


@dataclass(frozen=True)
class WeeklyOutcome:
    action: WeeklyAction
    week_key: str | None = None
    edition_id: int | None = None
    detail: str = ""


def make_weekly_edition(
    database: Database,
    settings: Settings,
    now: datetime,
    *,
    stop: threading.Event | None = None,
) -> WeeklyOutcome:
    """Make (and, without review, send) the edition of the slot due at ``now``, once."""
    decision = due_slot(settings.schedule, now)
    if decision.action == "nothing due" or decision.week_key is None:
        return WeeklyOutcome("nothing due")
    key = decision.week_key
    if decision.action == "too late":
        if (made := _edition_of_week(database, key)) is not None:
            return WeeklyOutcome("already made", key, made)
        log.warning(
            "the slot of %s (%s) passed more than %d hours ago; not sending it late",
            key,
            decision.slot,
            settings.schedule.catch_up_hours,
        )
        return WeeklyOutcome("too late", key)
    return make_edition_for_week(database, settings, key, now, stop=stop, slot=decision.slot)


def make_edition_for_week(
    database: Database,
    settings: Settings,
    key: str,
    now: datetime,
    *,
    stop: threading.Event | None = None,
    slot: datetime | None = None,
) -> WeeklyOutcome:
    """Make week ``key``'s edition of the next post: checked, reviewed if configured, sent.

    The feeds are polled first, so a post published this morning makes this week's edition.
    """
    if (made := _edition_of_week(database, key)) is not None:
        return WeeklyOutcome("already made", key, made)
    _poll_feeds(database, settings, now)
    review = settings.schedule.review_minutes
    prepared: PreparedEdition | None = None
    try:
        with database.session() as session:
            post = post_queue.next_unsent(session)
            if post is None and (made := _edition_of_week(database, key)) is not None:
                # Another daemon made this week's edition (of the last queued post) since
                # our check above: the queue is not empty, it was just used.
                return WeeklyOutcome("already made", key, made)
            if post is None:
                log.warning("week %s: the queue is empty; no edition this week", key)
                record_empty_slot(session, key)
            else:
                prepared = prepare_edition(
                    session, settings, post, actor="scheduler", on_failure="hold", week_key=key
                )
                if prepared.hold_reason is None and (
                    too_many := limits.hold_reason(session, prepared.edition_id)
                ):
                    # Too many bounces or complaints last time: the owner decides first.
                    hold(session, prepared.edition_id, too_many)
                    prepared = replace(prepared, hold_reason=too_many)
                if review and settings.newsletter.owner_address and prepared.hold_reason is None:
                    edition = session.get(Edition, prepared.edition_id)
                    assert edition is not None
                    edition.send_after = now + timedelta(minutes=review)
    except (IntegrityError, InputError):
        # Another daemon made this week's edition between our check and our insert: the
        # unique week key refuses ours, or (when it took the same post) the post is taken.
        if (made := _edition_of_week(database, key)) is not None:
            return WeeklyOutcome("already made", key, made)
        raise
    if prepared is None:
        alerts.queue_empty(database, settings, key, slot or now, now)
        return WeeklyOutcome("queue empty", key)
    edition_id = prepared.edition_id
    if prepared.hold_reason is not None:
        log.error("week %s: edition %d held: %s", key, edition_id, prepared.hold_reason)
        alerts.edition_held(database, settings, key, edition_id, prepared.hold_reason, now)
        return WeeklyOutcome("held", key, edition_id, prepared.hold_reason)

    if review and settings.newsletter.owner_address:
        owner = settings.newsletter.owner_address
        try:
            attempt = send_test_copy(settings, prepared.rendered, owner)
            problem = None if attempt.outcome == Outcome.SENT else attempt.reply
        except NewsletterError as exc:
            problem = str(exc)
        if problem is not None:
            # Nobody reviewed it, so it must not go out on its own when the wait is over.
            reason = f"the [TEST] copy to {owner} was not delivered: {problem}"
            with database.session() as session:
                hold(session, edition_id, reason)
            log.error("week %s: edition %d held: %s", key, edition_id, reason)
            return WeeklyOutcome("held", key, edition_id, reason)
        log.info(
            "week %s: edition %d: [TEST] copy to %s (%s); sending at %s unless cancelled",
            key,
            edition_id,
            settings.newsletter.owner_address,
            attempt.reply,
            (now + timedelta(minutes=review)).isoformat(timespec="minutes"),
        )
        return WeeklyOutcome("review", key, edition_id)
    if review:
        log.warning("schedule.review_minutes is set but newsletter.owner_address is empty")
    summary = _send(database, settings, edition_id, stop, prepared.rendered)
    alerts.edition_failures(database, settings, summary, now)
    return WeeklyOutcome("sent", key, edition_id, _describe(summary))


EMPTY_SLOT_EVENT = "slot_empty"


def record_empty_slot(session: Session, key: str) -> None:
    """Note in the events log that week ``key``'s slot found the queue empty (once)."""
    if key not in empty_slot_weeks(session):
        record_event(session, EMPTY_SLOT_EVENT, "scheduler", week=key)


def empty_slot_weeks(session: Session) -> set[str]:
    """The recent weeks whose slot found the queue empty (``status`` reports the last one)."""
    recent = session.scalars(
        select(Event.detail)
        .where(Event.kind == EMPTY_SLOT_EVENT)
        .order_by(Event.id.desc())
        .limit(8)
    )
    return {str(detail["week"]) for detail in recent if detail and "week" in detail}


def _edition_of_week(database: Database, key: str) -> int | None:
    with database.session() as session:
        return session.scalar(select(Edition.id).where(Edition.week_key == key))


def send_due_work(
    database: Database,
    settings: Settings,
    now: datetime,
    *,
    stop: threading.Event | None = None,
    at_start: bool = False,
) -> list[SendSummary]:
    """Send every edition that has work due now: unfinished sends, retries, reviewed drafts.

    ``at_start`` (a fresh process, which has claimed nothing yet): also editions whose
    only open rows are claims still under lease. A previous run that died may hold them;
    the engine takes back those of dead processes on this host before it sends, so they
    go out now instead of when the lease lapses. (Only at start: later, such claims may be
    this very process's own send, running in another job.)
    """
    if _window_spent(database, settings, now):
        return []
    lease = timedelta(minutes=settings.smtp.lease_minutes)
    claimed = (Delivery.status == DeliveryStatus.SENDING) & (
        true() if at_start else Delivery.claimed_at <= now - lease
    )
    due = or_(
        Delivery.status == DeliveryStatus.QUEUED,
        (Delivery.status == DeliveryStatus.DEFERRED) & (Delivery.next_attempt_at <= now),
        claimed,
    )
    ready = or_(
        Edition.status == EditionStatus.SENDING,
        (Edition.status == EditionStatus.DRAFT)
        & Edition.week_key.is_not(None)
        & (Edition.send_after.is_(None) | (Edition.send_after <= now)),
    )
    with database.session() as session:
        edition_ids = session.scalars(
            select(Edition.id)
            .where(ready, exists().where(Delivery.edition_id == Edition.id, due))
            .order_by(Edition.id)
        ).all()
    summaries = []
    for edition_id in edition_ids:
        if stop is not None and stop.is_set():
            break
        try:
            summary = _send(database, settings, edition_id, stop)
        except InputError as exc:
            # Another job of this daemon is sending it (a long send outlasts the periodic
            # job's interval), or it was cancelled since the query: nothing to do here.
            log.debug("edition %d: not sent by this job: %s", edition_id, exc)
            continue
        summaries.append(summary)
        alerts.edition_failures(database, settings, summary, now)
    return summaries


def _window_spent(database: Database, settings: Settings, now: datetime) -> bool:
    """Whether an hourly or daily limit is spent: then this job, which runs every minute,
    leaves the editions alone (and quiet: the send that hit the limit said until when)."""
    budget = SharedBudget(database.engine, Limits.of(settings.smtp), clock=lambda: now)
    waiting = budget.waiting()  # no query without an hourly or daily limit
    if waiting is not None:
        log.debug("due work: %s", waiting.describe())
    return waiting is not None


def _send(
    database: Database,
    settings: Settings,
    edition_id: int,
    stop: threading.Event | None,
    rendered: RenderedEdition | None = None,
) -> SendSummary:
    summary = send_edition(
        database, settings, edition_id, options=SendOptions(stop=stop), rendered=rendered
    )
    if summary.bounced:  # addresses the relay refused count towards the returns limits
        limits.check_limits(database, settings, edition_id)
    log.info("edition %d: %s", edition_id, _describe(summary))
    return summary


def _describe(summary: SendSummary) -> str:
    waiting = f"; {summary.waiting.describe()}" if summary.waiting else ""
    return (
        f"{summary.status}: sent {summary.sent}, deferred {summary.deferred}, "
        f"failed {summary.failed}, skipped {summary.skipped}{waiting}"
    )


def watch(database: Database, settings: Settings, now: datetime) -> None:
    """The periodic look around (every ``posts.poll_minutes``): poll the feeds, then tell
    the owner about a feed that has failed for a day or a queue that is empty a day before
    the next slot."""
    _poll_feeds(database, settings, now)
    alerts.failing_feeds(database, settings, now)
    alerts.upcoming_slot_check(database, settings, now)


def _poll_feeds(database: Database, settings: Settings, now: datetime) -> None:
    for report in poll_feeds(database, settings, now):
        if report.error is not None:
            log.warning("feed %s; trying again at the next poll", report.error)
        for line in report.skip_lines():
            log.warning("feed %s; its other posts were read", line)


Job = Callable[[], Any]


def build_scheduler(
    settings: Settings,
    weekly: Job,
    due_work: Job,
    watch: Job,
    *,
    due_work_seconds: int = 60,
    bounce_mailbox: Job | None = None,
) -> AsyncIOScheduler:
    """APScheduler's timetable: the weekly slot, a periodic look for due work, the
    periodic watch (feeds, owner warnings) and, when a bounce mailbox is configured, its
    poll every ``bounces.imap.poll_minutes``.

    The jobs themselves are given by the daemon (they run the blocking work in a thread);
    APScheduler keeps no state of its own: after a restart the database says what was done.
    """
    scheduler = AsyncIOScheduler(timezone=ZoneInfo(settings.schedule.timezone))
    scheduler.add_job(
        weekly,
        make_trigger(settings.schedule),
        id="weekly-edition",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=settings.schedule.catch_up_hours * 3600 or None,
    )
    scheduler.add_job(
        due_work,
        "interval",
        seconds=due_work_seconds,
        id="due-work",
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        watch,
        "interval",
        minutes=settings.posts.poll_minutes,
        id="watch",
        coalesce=True,
        max_instances=1,
    )
    if bounce_mailbox is not None:
        scheduler.add_job(
            bounce_mailbox,
            "interval",
            minutes=settings.bounces_imap.poll_minutes,
            id="bounce-mailbox",
            coalesce=True,
            max_instances=1,
        )
    return scheduler


def run_once(database: Database, settings: Settings, now: datetime | None = None) -> WeeklyOutcome:
    """What ``run --once`` does (for cron users): the weekly job, then any due work."""
    moment = now or utcnow()
    outcome = make_weekly_edition(database, settings, moment)
    send_due_work(database, settings, moment, at_start=True)
    return outcome
