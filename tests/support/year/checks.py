"""The invariants of a simulated year, checked after every week against what the relay
received and what the database says. Each check returns its problems as lines; none: it
holds.

What the simulation tells them, in :class:`Record`: when each message reached the relay
(by position in the relay's list), which readers left and at which position, which weeks
had a post queued at their slot, and which copies a SIGKILL may have sent twice.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from newsletter.db import states
from newsletter.db.models import (
    AlertStatus,
    Delivery,
    DeliveryStatus,
    Edition,
    EditionStatus,
    OwnerAlert,
)
from tests.support.db import assert_states_add_up
from tests.support.settings import AMSTERDAM, OWNER
from tests.support.smtp import RecordingHandler

from .world import LEASE_MINUTES, World


@dataclass
class Record:
    """What the simulation saw happen, for the checks."""

    # (messages the relay had, the simulated moment): one mark after every step
    marks: list[tuple[int, datetime]] = field(default_factory=list)
    # reader -> the relay's message count when their leaving was processed
    stopped: dict[str, int] = field(default_factory=dict)
    queued_weeks: set[str] = field(default_factory=set)
    # (reader, subject) a SIGKILL caught in flight: sent, not yet recorded
    in_flight: set[tuple[str, str]] = field(default_factory=set)

    def moment_of(self, index: int) -> datetime:
        """The simulated moment of the step in which the relay got message ``index``."""
        counts = [count for count, _ in self.marks]
        return self.marks[min(bisect.bisect_right(counts, index), len(self.marks) - 1)][1]


def edition_subjects(world: World) -> dict[str, int]:
    with world.database.session() as session:
        return {
            subject: id_ for subject, id_ in session.execute(select(Edition.subject, Edition.id))
        }


def edition_mails(
    handler: RecordingHandler, subjects: dict[str, int]
) -> list[tuple[int, str, str]]:
    """(position, reader, subject) of every edition copy the relay accepted."""
    with handler.lock:
        mails = list(handler.received)
    return [
        (index, reader, subject)
        for index, mail in enumerate(mails)
        if (subject := str(mail.message["Subject"])) in subjects
        for reader in mail.recipients
    ]


def one_edition_a_week(world: World, record: Record) -> list[str]:
    with world.database.session() as session:
        weeks = Counter(
            session.scalars(select(Edition.week_key).where(Edition.week_key.is_not(None)))
        )
    problems = [f"{week}: {count} editions" for week, count in weeks.items() if count > 1]
    return problems + [
        f"{week}: a post was queued, no edition" for week in record.queued_weeks - set(weeks)
    ]


def nobody_twice(mails: list[tuple[int, str, str]], record: Record) -> list[str]:
    copies = Counter((reader, subject) for _, reader, subject in mails)
    return [
        f"{reader} got {subject!r} {count} times"
        for (reader, subject), count in copies.items()
        if count > 2 or (count == 2 and (reader, subject) not in record.in_flight)
    ]


def nobody_after_leaving(mails: list[tuple[int, str, str]], record: Record) -> list[str]:
    return [
        f"{reader} was sent {subject!r} after leaving"
        for index, reader, subject in mails
        if reader in record.stopped and index >= record.stopped[reader]
    ]


def tallies_add_up(world: World) -> list[str]:
    problems = []
    with world.database.session() as session:
        ids = list(session.scalars(select(Edition.id)))
    for edition_id in ids:
        try:
            assert_states_add_up(world.database, edition_id)
        except AssertionError as exc:
            problems.append(f"edition {edition_id}: the tally does not add up: {exc}")
    return problems


def alerts_once_a_week(world: World, record: Record) -> list[str]:
    """No owner alert mailed twice: in each week the relay got no more owner mails than
    alerts were marked sent that week (a mail may carry several; the database keeps one
    alert per cause and week). A mailer that mailed and then failed to mark would show."""
    with world.relay.handler.lock:
        mails = list(enumerate(world.relay.handler.received))
    wire = Counter(_week(record.moment_of(i)) for i, mail in mails if OWNER in mail.recipients)
    with world.database.session() as session:
        sent = Counter(
            _week(moment)
            for moment in session.scalars(
                select(OwnerAlert.sent_at).where(OwnerAlert.status == AlertStatus.SENT)
            )
            if moment is not None
        )
    return [
        f"week {week}: {count} owner mails for {sent[week]} alerts"
        for week, count in wire.items()
        if count > sent[week]
    ]


def _week(moment: datetime) -> tuple[int, int]:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    year, week, _ = aware.astimezone(AMSTERDAM).isocalendar()
    return year, week


def no_lapsed_claims(world: World, now: datetime) -> list[str]:
    """After a restart nothing stays claimed past the lease, and no edition without open
    rows stays ``sending``."""
    lease = timedelta(minutes=LEASE_MINUTES)
    with world.database.session() as session:
        lapsed = session.scalar(
            select(func.count()).select_from(Delivery).where(states.lease_lapsed(now, lease))
        )
        stuck = list(
            session.scalars(
                select(Edition.id).where(
                    Edition.status == EditionStatus.SENDING,
                    ~select(Delivery.id)
                    .where(Delivery.edition_id == Edition.id, Delivery.status.in_(states.OPEN))
                    .exists(),
                )
            )
        )
    problems = [f"{lapsed} claims held past the lease"] if lapsed else []
    return problems + [f"edition {edition_id} sending with nothing open" for edition_id in stuck]


def deferred_now(world: World) -> int:
    with world.database.session() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.status == DeliveryStatus.DEFERRED)
            )
            or 0
        )


def check_all(world: World, record: Record, now: datetime) -> list[str]:
    """Every invariant at ``now``, the end of a week."""
    mails = edition_mails(world.relay.handler, edition_subjects(world))
    return [
        *one_edition_a_week(world, record),
        *nobody_twice(mails, record),
        *nobody_after_leaving(mails, record),
        *tallies_add_up(world),
        *alerts_once_a_week(world, record),
        *no_lapsed_claims(world, now),
    ]
