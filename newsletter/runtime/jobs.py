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
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db import owner_hold, states
from newsletter.db.database import Database
from newsletter.db.models import Delivery, Edition, utcnow
from newsletter.delivery.budget import Limits, SharedBudget
from newsletter.delivery.engine import SendSummary, send_edition
from newsletter.delivery.publish import describe, edition_of_week, publish_week
from newsletter.delivery.send_loop import SendOptions
from newsletter.delivery.slots import due_slot, make_trigger
from newsletter.errors import InputError
from newsletter.feeds.poll import poll_feeds
from newsletter.returns import limits
from newsletter.runtime import alerts
from newsletter.runtime.empty_slots import record_empty_slot
from newsletter.runtime.owner_mail import mail_pending_alerts

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
    published = publish_week(database, settings, key, now, stop=stop, hold_check=_hold_reason)
    if published.action == "queue empty":
        log.warning("week %s: the queue is empty; no edition this week", key)
        with database.session() as session:
            record_empty_slot(session, key)
    elif published.action == "held":
        log.error("week %s: edition %d held: %s", key, published.edition_id, published.detail)
    alerts.after_publish(database, settings, key, published, slot or now, now)
    return WeeklyOutcome(published.action, key, published.edition_id, published.detail)


def _hold_reason(session: Session, edition_id: int) -> str | None:
    """Why the week's edition must wait: the owner asked so in advance, or the last one
    bounced too much."""
    return owner_hold.hold_reason(session, edition_id) or limits.hold_reason(session, edition_id)


def _edition_of_week(database: Database, key: str) -> int | None:
    with database.session() as session:
        return edition_of_week(session, key)


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
    summaries = []
    for edition_id in editions_with_due_work(database, settings, now, at_start=at_start):
        if stop is not None and stop.is_set():
            break
        try:
            summary = _send(database, settings, edition_id, stop, now)
        except InputError as exc:
            # Another job of this daemon is sending it (a long send outlasts the periodic
            # job's interval), or it was cancelled since the query: nothing to do here.
            log.debug("edition %d: not sent by this job: %s", edition_id, exc)
            continue
        summaries.append(summary)
        alerts.after_send(database, settings, summary, now)
    return summaries


def editions_with_due_work(
    database: Database, settings: Settings, now: datetime, *, at_start: bool = False
) -> list[int]:
    """The editions :func:`send_due_work` sends at ``now``: ready to send, with a delivery
    a sender may claim (see :mod:`newsletter.db.states`), or, ``at_start``, in flight."""
    work = states.claimable(now, states.lease_of(settings.smtp))
    if at_start:
        work = or_(work, states.in_flight())
    with database.session() as session:
        return list(
            session.scalars(
                select(Edition.id)
                .where(
                    states.ready_to_send(now),
                    exists().where(Delivery.edition_id == Edition.id, work),
                )
                .order_by(Edition.id)
            )
        )


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
    now: datetime,
) -> SendSummary:
    """The send runs on the job's clock (``now``, moving on as the send takes time): the
    rows it claims are those the query above found due, and the retry times, leases and
    budget windows it writes are in the same time. On the wall clock instead, a job told
    a later ``now`` found a deferral due that the engine would not claim, and sent none."""
    options = SendOptions(stop=stop, clock=_running_from(now))
    summary = send_edition(database, settings, edition_id, options=options)
    log.info("edition %d: %s", edition_id, describe(summary))
    return summary


def _running_from(now: datetime) -> Callable[[], datetime]:
    started = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - started)


def watch(database: Database, settings: Settings, now: datetime) -> None:
    """The periodic look around (every ``posts.poll_minutes``): poll the feeds, then tell
    the owner about a feed that has failed for a day or a queue that is empty a day before
    the next slot, and mail the alerts still pending (recorded by a late bounce report, or
    whose mail failed before)."""
    _poll_feeds(database, settings, now)
    alerts.periodic_checks(database, settings, now)


def _poll_feeds(database: Database, settings: Settings, now: datetime) -> None:
    for report in poll_feeds(database, settings, now):
        if report.error is not None:
            log.warning("feed %s; trying again at the next poll", report.error)
        for line in report.skip_lines():
            log.warning("feed %s; its other posts were read", line)


Job = Callable[[], Any]
DUE_WORK_SECONDS = 60.0


def due_work_seconds(settings: Settings) -> float:
    """How often the daemon looks for due work: every minute, or twice per lease when the
    lease is shorter than two minutes. A host that dies leaves its claims until the lease
    lapses, and the other daemons take them at their next look, so a dead host's readers
    wait at most a lease and one interval."""
    return min(DUE_WORK_SECONDS, states.lease_of(settings.smtp).total_seconds() / 2)


def build_scheduler(
    settings: Settings,
    weekly: Job,
    due_work: Job,
    watch: Job,
    *,
    bounce_mailbox: Job | None = None,
) -> AsyncIOScheduler:
    """APScheduler's timetable: the weekly slot, a periodic look for due work (every
    :func:`due_work_seconds`), the periodic watch (feeds, owner warnings) and, when a
    bounce mailbox is configured, its poll every ``bounces.imap.poll_minutes``.

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
        seconds=due_work_seconds(settings),
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
    """What ``run --once`` does (for cron users): the weekly job, then any due work and
    the owner alerts still pending."""
    moment = now or utcnow()
    outcome = make_weekly_edition(database, settings, moment)
    send_due_work(database, settings, moment, at_start=True)
    mail_pending_alerts(database, settings, moment)
    return outcome
