"""The retry policy's backoff, and writing a batch of results into the ledger, on SQLite
and PostgreSQL.

One batch holds every kind of outcome; each row must end as its result says, with the
retry wait, the Message-ID and the bounce it calls for, and a result for a row that is no
longer this sender's changes it only when the message went out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from newsletter.db.database import Database
from newsletter.db.models import Delivery, Subscriber
from newsletter.delivery import editions
from newsletter.delivery.attempt import Attempt, Outcome
from newsletter.delivery.ledger import Ledger
from newsletter.delivery.message_ids import message_ids
from newsletter.delivery.outcomes import Result, RetryPolicy
from tests.support.db import new_edition
from tests.support.settings import make_settings

NOW = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)
RETRY = RetryPolicy(first=timedelta(minutes=5), longest=timedelta(hours=1))


def _ledger(database: Database, edition_id: int) -> Ledger:
    return Ledger(
        database.engine,
        edition_id,
        lease=timedelta(minutes=10),
        retry=RETRY,
        message_ids=message_ids(make_settings()).of_edition(edition_id),
        owner="elders:1",
        clock=lambda: NOW,
    )


def _rows(database: Database) -> dict[str, tuple[str, int, datetime | None, str | None]]:
    with database.session() as session:
        rows = session.execute(
            select(
                Subscriber.email,
                Delivery.status,
                Delivery.attempts,
                Delivery.next_attempt_at,
                Delivery.message_id,
            ).join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        )
        return {email: (status, n, wait, mid) for email, status, n, wait, mid in rows}


def test_one_batch_writes_every_outcome_as_its_result_says(database: Database) -> None:
    edition_id, addresses = new_edition(database, 4)
    with database.session() as session:
        editions.start_sending(session, edition_id)
    ledger = _ledger(database, edition_id)
    claims, _ = ledger.claim(10)
    by_address = {claim.email: claim for claim in claims}
    sent, greylisted, refused, unknown = (by_address[address] for address in addresses)
    tally = ledger.record(
        [
            Result(sent, Attempt(Outcome.SENT, "250 ok")),
            Result(greylisted, Attempt(Outcome.DEFERRED, "451 later", soft_bounce=True)),
            Result(refused, Attempt(Outcome.FAILED, "554 no")),
            Result(unknown, Attempt(Outcome.FAILED, "550 5.1.1 unknown", bounced=True)),
        ]
    )
    assert (tally.sent, tally.deferred, tally.failed, tally.bounced) == (1, 1, 2, 1)
    rows = _rows(database)
    ids = message_ids(make_settings()).of_edition(edition_id)
    assert rows[sent.email] == ("sent", 1, None, ids.for_subscriber(sent.subscriber_id))
    assert rows[greylisted.email] == ("deferred", 1, NOW + RETRY.first, None)
    assert rows[refused.email][:3] == ("failed", 1, None)
    assert rows[unknown.email][:3] == ("failed", 1, None)
    with database.session() as session:
        statuses = dict(session.execute(select(Subscriber.email, Subscriber.status)).all())
    assert statuses[unknown.email] == "bounced" and statuses[refused.email] == "active"


def test_a_row_taken_over_by_another_sender_keeps_its_state_unless_it_was_sent(
    database: Database,
) -> None:
    edition_id, addresses = new_edition(database, 2)
    with database.session() as session:
        editions.start_sending(session, edition_id)
    ledger = _ledger(database, edition_id)
    claims, _ = ledger.claim(10)
    with database.session() as session:  # our lease lapsed; another sender holds them now
        session.execute(update(Delivery).values(claimed_by="anders:2"))
    first, second = sorted(claims, key=lambda claim: addresses.index(claim.email))
    ledger.record(
        [
            Result(first, Attempt(Outcome.SENT, "250 ok")),
            Result(second, Attempt(Outcome.DEFERRED, "451 later")),
        ]
    )
    rows = _rows(database)
    assert rows[first.email][:2] == ("sent", 1)  # it went out: recorded whoever holds it
    assert rows[second.email][:2] == ("sending", 0)  # the other sender's to record


def test_backoff_doubles_from_five_minutes_and_gives_up_after_a_day():
    policy = RetryPolicy(first=timedelta(minutes=5), longest=timedelta(hours=24))
    waits = []
    attempts = 1
    while (delay := policy.delay_after(attempts)) is not None:
        waits.append(delay.total_seconds() / 60)
        attempts += 1
    assert waits == [5, 10, 20, 40, 80, 160, 320, 640, 1280]
    assert attempts == 10  # the tenth failure is final
