"""The driver of a simulated year: moves the clock through each week and runs the daemon's
own jobs at every step, as its timetable would (the watch, the due work, the owner's mail,
and at the slot the weekly edition), then checks every invariant at the week's end.

The clock steps once a day (at noon) and more often around the slot (when sends and retries
happen). Between steps the world changes: posts appear in the feed, readers act on the web
pages, reports come back, the relay fails or goes down. A week whose plan says so runs the
slot in a daemon process that is SIGKILLed mid-send; the daemon started after it takes
back what the dead one held. The database is restarted once: on PostgreSQL every
connection of the simulation is terminated by the server (``pg_terminate_backend``), on
SQLite every connection is closed.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text

from newsletter.db import post_queue
from newsletter.db.models import Delivery, DeliveryStatus, Edition, Subscriber
from newsletter.delivery.editions import active_subscriber_count
from newsletter.delivery.publish import edition_of_week
from newsletter.delivery.slots import due_slot
from newsletter.runtime.jobs import make_weekly_edition, send_due_work, watch
from newsletter.runtime.owner_mail import mail_pending_alerts
from tests.support.settings import OWNER
from tests.support.smtp import GREYLISTED

from .checks import Record, check_all, deferred_now, edition_mails, edition_subjects
from .child import start_daemon
from .people import People
from .plan import WeekPlan
from .world import READERS, World

log = logging.getLogger(__name__)
OUTAGE_HOURS = 6
KILL_DEADLINE_SECONDS = 60.0
# Around the slot: the send, the first retries, the relay back after an outage.
SLOT_STEPS = (timedelta(0), timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=2))
SLOT_STEPS += (timedelta(hours=OUTAGE_HOURS, minutes=5),)


@dataclass
class WeekRow:
    week: str
    posts: int = 0
    edition: str = "-"
    readers: int = 0
    delivered: int = 0
    deferred: int = 0
    bounced: int = 0
    complaints: int = 0
    alerts: int = 0
    kills: int = 0
    twice: int = 0  # copies a kill caught in flight that went out again (allowed)
    problems: list[str] = field(default_factory=list)


class Year:
    def __init__(self, world: World, plan: list[WeekPlan], seed: int, workdir: Path) -> None:
        self.world = world
        self.plan = plan
        self.rng = random.Random(seed)
        self.workdir = workdir
        self.record = Record()
        self.people = People(world, self.record, self.rng)
        self.twice_before = 0
        self.posts = [moment for week in plan for moment in week.posts]

    def weeks(self) -> Iterator[WeekRow]:
        for week in self.plan:
            yield self.run_week(week)

    def run_week(self, week: WeekPlan) -> WeekRow:
        slot = datetime.combine(
            week.start.date(), datetime.min.time().replace(hour=7), week.start.tzinfo
        )
        slot += timedelta(seconds=5)
        key = due_slot(self.world.settings.schedule, slot).week_key or "?"
        row = WeekRow(key)
        first_mail = self.world.relay.handler.count()
        daily = (week.start + timedelta(days=n, hours=12) for n in range(7))
        steps = sorted({*daily, *(slot + step for step in SLOT_STEPS)})
        web_moment = week.start + timedelta(days=3, hours=12)
        for moment in steps:
            self.world.relay.set_down(
                week.outage
                and slot - timedelta(minutes=1) <= moment < slot + timedelta(hours=OUTAGE_HOURS)
            )
            row.posts += self.world.blog.publish_until(self.posts, moment)
            bounced, complained = self.people.deliver_returns(moment)
            row.bounced += bounced
            row.complaints += complained
            if moment == web_moment:
                self._web(week)
            if moment == slot:
                self._set_faults(week)
                row.kills += self._slot(week, key, moment, row)
            self._jobs(moment, row)
            self.record.marks.append((self.world.relay.handler.count(), moment))
            if moment == slot + SLOT_STEPS[-1]:
                self._plan_returns(week, key, moment)
                self._clear_faults()
        self._figures(row, key, first_mail)
        row.problems += check_all(self.world, self.record, week.end)
        return row

    def _set_faults(self, week: WeekPlan) -> None:
        faults = self.world.relay.faults
        readers = self.people.recent_readers() or [f"lezer{n}@voorbeeld.nl" for n in range(10)]
        faults.rcpt_script = {
            reader: [GREYLISTED]
            for reader in self.rng.sample(readers, min(week.greylist, len(readers)))
        }
        faults.drop_data_every = 7 if week.drops else 0
        if week.slow_down:
            first = self.world.relay.handler.mail_commands + 3
            faults.mail_421 = (first, first + 4)

    def _clear_faults(self) -> None:
        """The relay behaves between slots, so that confirmation mails arrive."""
        faults = self.world.relay.faults
        faults.rcpt_script.clear()
        faults.drop_data_every = 0
        faults.mail_421 = (0, 0)

    def _web(self, week: WeekPlan) -> None:
        for _ in range(week.signups):
            self.people.sign_up()
        readers = self.people.recent_readers()
        chosen = self.rng.sample(readers, min(len(readers), week.pauses + week.unsubscribes))
        for reader in chosen[: week.pauses]:
            self.people.pause(reader)
        for reader in chosen[week.pauses :]:
            self.people.unsubscribe(reader)

    def _slot(self, week: WeekPlan, key: str, moment: datetime, row: WeekRow) -> int:
        """The weekly job (in a daemon process that is killed, if planned); how many kills."""
        if week.restart:
            self._restart_database()
        database, settings = self.world.database, self.world.settings
        self._guard(row, "watch", lambda: watch(database, settings, moment))
        with database.session() as session:
            if post_queue.next_unsent(session) is not None:
                self.record.queued_weeks.add(key)
        if not week.kill:
            self._guard(row, "weekly", lambda: make_weekly_edition(database, settings, moment))
            return 0
        killed = self._killed_send(key, moment)
        # The daemon started again: its start-up job takes back what the dead one held.
        self._guard(
            row, "start-up", lambda: send_due_work(database, settings, moment, at_start=True)
        )
        return int(killed)

    def _killed_send(self, key: str, moment: datetime) -> bool:
        """The weekly job in a daemon process, SIGKILLed once the relay took a few of its
        messages; False if it finished first (then nothing was killed mid-send)."""
        handler, faults = self.world.relay.handler, self.world.relay.faults
        faults.data_seconds = 0.05  # a send of seconds, not a blink: time to kill it
        target = handler.count() + self.rng.randint(3, READERS // 2)
        process = start_daemon(self.world.wiring, moment, self.workdir / "daemon.log")
        deadline = time.monotonic() + KILL_DEADLINE_SECONDS
        while process.poll() is None and handler.count() < target:
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        killed = process.poll() is None
        process.kill()
        process.wait()
        faults.data_seconds = 0.0
        self._note_in_flight(key)
        return killed

    def _note_in_flight(self, key: str) -> None:
        """Copies the dead process had claimed that the relay accepted: sent, unrecorded."""
        with self.world.database.session() as session:
            edition_id = edition_of_week(session, key)
            claimed = set(
                session.scalars(
                    select(Subscriber.email)
                    .join(Delivery, Delivery.subscriber_id == Subscriber.id)
                    .where(
                        Delivery.edition_id == edition_id, Delivery.status == DeliveryStatus.SENDING
                    )
                )
            )
        for _, reader, subject in edition_mails(
            self.world.relay.handler, edition_subjects(self.world)
        ):
            if reader in claimed:
                self.record.in_flight.add((reader, subject))

    def _restart_database(self) -> None:
        database = self.world.database
        if database.engine.dialect.name == "postgresql":
            with database.engine.connect() as connection:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = current_setting('application_name')"
                        " AND pid <> pg_backend_pid()"
                    )
                )
        database.engine.dispose()

    def _jobs(self, moment: datetime, row: WeekRow) -> None:
        database, settings = self.world.database, self.world.settings
        self._guard(row, "watch", lambda: watch(database, settings, moment))
        self._guard(row, "due work", lambda: send_due_work(database, settings, moment))
        self._guard(row, "owner mail", lambda: mail_pending_alerts(database, settings, moment))

    @staticmethod
    def _guard(row: WeekRow, name: str, job: Callable[[], object]) -> None:
        """Run a job as the daemon does: a job that fails is logged, and tried next time
        (here it is also a problem of the week: the daemon never should fail)."""
        try:
            job()
        except Exception as exc:
            log.exception("job %s failed", name)
            row.problems.append(f"the {name} job failed: {exc!r}"[:300])

    def _plan_returns(self, week: WeekPlan, key: str, moment: datetime) -> None:
        with self.world.database.session() as session:
            edition_id = edition_of_week(session, key)
        if edition_id is not None and week.return_days:
            self.people.plan_returns(edition_id, moment, week.bounces, week.return_days)

    def _figures(self, row: WeekRow, key: str, first_mail: int) -> None:
        handler = self.world.relay.handler
        subjects = edition_subjects(self.world)
        mails = edition_mails(handler, subjects)
        row.delivered = sum(1 for index, _, _ in mails if index >= first_mail)
        copies = Counter((reader, subject) for _, reader, subject in mails)
        row.twice = sum(count - 1 for count in copies.values()) - self.twice_before
        self.twice_before += row.twice
        with handler.lock:
            row.alerts = sum(
                1 for mail in handler.received[first_mail:] if OWNER in mail.recipients
            )
        row.deferred = deferred_now(self.world)
        with self.world.database.session() as session:
            row.readers = active_subscriber_count(session)
            edition_id = edition_of_week(session, key)
            if edition_id is not None:
                row.edition = f"{edition_id} {session.get(Edition, edition_id).status}"
