"""The one state machine: its moves, and the lease boundary as every reader of it sees it.

The ledger (a sender claiming), the due-work job's query (which editions to send) and
``status`` (what an edition has due now) once disagreed by one tick about when a lease
lapses. Here all three are asked at one second before, exactly at, and one second after
``claimed_at + lease``, on SQLite and PostgreSQL, and must give the same answer.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.db import states
from newsletter.db.database import Database
from newsletter.db.models import Delivery, DeliveryStatus, Edition, EditionStatus
from newsletter.delivery import editions
from newsletter.delivery.ledger import Ledger
from newsletter.delivery.message_ids import message_ids
from newsletter.delivery.outcomes import RetryPolicy
from newsletter.runtime.jobs import editions_with_due_work
from newsletter.runtime.status import collect_status
from tests.support.db import new_edition
from tests.support.settings import make_settings

LEASE_MINUTES = 10
LEASE = timedelta(minutes=LEASE_MINUTES)
CLAIMED_AT = datetime(2026, 11, 16, 9, 30, 15, 250_000, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def _ledger(database: Database, settings: Settings, edition_id: int, at: datetime) -> Ledger:
    return Ledger(
        database.engine,
        edition_id,
        lease=states.lease_of(settings.smtp),
        retry=RetryPolicy.of(settings.smtp),
        message_ids=message_ids(settings).of_edition(edition_id),
        owner="elders:1",  # another host: never taken back as a dead local process
        clock=lambda: at,
    )


@pytest.mark.parametrize(
    ("offset", "claimable"),
    [(-SECOND, False), (timedelta(0), True), (SECOND, True)],
    ids=["a second before", "exactly at", "a second after"],
)
def test_a_lease_lapses_exactly_at_claimed_at_plus_lease_for_ledger_job_and_status(
    database: Database, offset: timedelta, claimable: bool
) -> None:
    settings = make_settings(smtp={"lease_minutes": LEASE_MINUTES})
    edition_id, _ = new_edition(database, 1)
    with database.session() as session:
        editions.start_sending(session, edition_id)
    claims, _ = _ledger(database, settings, edition_id, CLAIMED_AT).claim(10)
    assert len(claims) == 1
    now = CLAIMED_AT + LEASE + offset
    ledger = _ledger(database, settings, edition_id, now)

    due_for_status = collect_status(database, settings, now)["edition"]["due_now"]
    due_for_job = editions_with_due_work(database, settings, now)
    due_for_ledger = ledger.count_due()
    claimed_again, _ = ledger.claim(10)

    assert due_for_status == due_for_ledger == len(claimed_again) == int(claimable)
    assert due_for_job == ([edition_id] if claimable else [])


def test_at_start_the_job_takes_editions_whose_claims_are_still_under_lease(
    database: Database,
) -> None:
    settings = make_settings(smtp={"lease_minutes": LEASE_MINUTES})
    edition_id, _ = new_edition(database, 1)
    with database.session() as session:
        editions.start_sending(session, edition_id)
    _ledger(database, settings, edition_id, CLAIMED_AT).claim(10)
    now = CLAIMED_AT + SECOND
    assert editions_with_due_work(database, settings, now) == []
    assert editions_with_due_work(database, settings, now, at_start=True) == [edition_id]


def test_deferred_rows_are_due_once_their_wait_is_over(database: Database) -> None:
    edition_id, _ = new_edition(database, 1)
    with database.session() as session:
        session.execute(
            states.move_deliveries(DeliveryStatus.QUEUED, DeliveryStatus.SENDING).values(
                claimed_at=CLAIMED_AT
            )
        )
        session.execute(
            states.move_deliveries(DeliveryStatus.SENDING, DeliveryStatus.DEFERRED).values(
                claimed_at=None, next_attempt_at=CLAIMED_AT + LEASE
            )
        )
        for offset, due in [(-SECOND, 0), (timedelta(0), 1), (SECOND, 1)]:
            now = CLAIMED_AT + LEASE + offset
            assert editions.due_now(session, edition_id, now, LEASE) == due, offset


EDITION_MOVES = {
    (EditionStatus.DRAFT, EditionStatus.HELD),
    (EditionStatus.DRAFT, EditionStatus.SENDING),
    (EditionStatus.DRAFT, EditionStatus.CANCELLED),
    (EditionStatus.HELD, EditionStatus.DRAFT),
    (EditionStatus.HELD, EditionStatus.CANCELLED),
    (EditionStatus.SENDING, EditionStatus.SENT),
    (EditionStatus.SENDING, EditionStatus.CANCELLED),
}
DELIVERY_MOVES = {
    (DeliveryStatus.QUEUED, DeliveryStatus.SENDING),
    (DeliveryStatus.QUEUED, DeliveryStatus.SKIPPED),
    (DeliveryStatus.DEFERRED, DeliveryStatus.SENDING),
    (DeliveryStatus.DEFERRED, DeliveryStatus.SKIPPED),
    *((DeliveryStatus.SENDING, target) for target in DeliveryStatus),
}


def test_open_work_is_what_may_still_move() -> None:
    assert set(states.OPEN) == {
        DeliveryStatus.QUEUED,
        DeliveryStatus.SENDING,
        DeliveryStatus.DEFERRED,
    }
    assert set(states.EDITION.unfinished()) == {
        EditionStatus.DRAFT,
        EditionStatus.HELD,
        EditionStatus.SENDING,
    }


def test_only_the_listed_moves_are_allowed() -> None:
    for current in EditionStatus:
        for target in EditionStatus:
            allowed = (current, target) in EDITION_MOVES
            assert states.EDITION.may_move(current, target) == allowed, (current, target)
    for current in DeliveryStatus:
        for target in DeliveryStatus:
            allowed = (current, target) in DELIVERY_MOVES
            assert states.DELIVERY.may_move(current, target) == allowed, (current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (EditionStatus.SENT, EditionStatus.SENDING),
        (EditionStatus.CANCELLED, EditionStatus.DRAFT),
        (EditionStatus.HELD, EditionStatus.SENDING),
        (EditionStatus.DRAFT, EditionStatus.SENT),
    ],
)
def test_an_edition_move_not_allowed_is_refused_and_changes_nothing(
    current: EditionStatus, target: EditionStatus
) -> None:
    edition = Edition(status=current)
    with pytest.raises(ValueError, match=f"an edition cannot go from {current} to {target}"):
        states.move_edition(edition, target)
    assert edition.status == current


@pytest.mark.parametrize(
    ("sources", "target"),
    [
        (DeliveryStatus.SENT, DeliveryStatus.QUEUED),
        ((DeliveryStatus.QUEUED, DeliveryStatus.FAILED), DeliveryStatus.SENDING),
        (DeliveryStatus.SKIPPED, DeliveryStatus.SENDING),
        (DeliveryStatus.QUEUED, DeliveryStatus.SENT),
    ],
)
def test_a_delivery_move_not_allowed_is_refused_before_any_sql(
    sources: DeliveryStatus | tuple[DeliveryStatus, ...], target: DeliveryStatus
) -> None:
    with pytest.raises(ValueError, match="a delivery cannot go from"):
        states.move_deliveries(sources, target)


def test_a_delivery_move_changes_only_rows_in_its_source_statuses(database: Database) -> None:
    edition_id, _ = new_edition(database, 3)
    with database.session() as session:
        first = session.scalar(select(Delivery.id).order_by(Delivery.id).limit(1))
        session.execute(
            states.move_deliveries(DeliveryStatus.QUEUED, DeliveryStatus.SENDING).where(
                Delivery.id == first
            )
        )
        moved = session.execute(
            states.move_deliveries(
                (DeliveryStatus.QUEUED, DeliveryStatus.DEFERRED), DeliveryStatus.SKIPPED
            ).where(Delivery.edition_id == edition_id)
        )
        assert moved.rowcount == 2  # type: ignore[attr-defined]
        assert sorted(session.scalars(select(Delivery.status))) == ["sending", "skipped", "skipped"]
