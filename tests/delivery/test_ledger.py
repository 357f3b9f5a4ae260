"""The ledger's lease rules: a claim lapses, a dead owner's rows are taken back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from newsletter.db import post_queue
from newsletter.db.database import Database, open_database
from newsletter.db.models import Delivery, utcnow
from newsletter.delivery import editions
from newsletter.delivery.ledger import Ledger
from newsletter.delivery.message_ids import message_ids
from newsletter.delivery.outcomes import RetryPolicy
from tests.support.db import add_subscribers
from tests.support.posts import add_post
from tests.support.settings import make_settings


def _ledger(database: Database, edition_id: int, owner: str, lease_minutes: float = 10) -> Ledger:
    settings = make_settings()
    return Ledger(
        database.engine,
        edition_id,
        lease=timedelta(minutes=lease_minutes),
        retry=RetryPolicy.of(settings.smtp),
        message_ids=message_ids(settings).of_edition(edition_id),
        owner=owner,
    )


def test_leases_expire_and_dead_owners_are_reclaimed(database_url: str):
    database = open_database(database_url)
    add_subscribers(database, 10)
    slug = add_post(database)
    with database.session() as session:
        edition_id = editions.create_edition(session, post_queue.get(session, slug), "Rust")
        editions.start_sending(session, edition_id)
    import socket

    host = socket.gethostname()
    first = _ledger(database, edition_id, f"{host}:999999999")  # no such pid
    claims, _ = first.claim(4)
    assert len(claims) == 4
    other_host = _ledger(database, edition_id, "elders:1")
    assert len(other_host.claim(4)[0]) == 4
    second = _ledger(database, edition_id, f"{host}:1")  # pid 1 is alive
    assert second.reclaim_abandoned() == 4  # the dead local owner's rows, not elders:1's
    assert len(second.claim(10)[0]) == 6  # 2 never claimed + 4 reclaimed
    assert second.claim(10)[0] == []
    with database.session() as session:  # elders:1 lets its lease lapse
        session.execute(
            update(Delivery)
            .where(Delivery.claimed_by == "elders:1")
            .values(claimed_at=utcnow() - timedelta(minutes=11))
        )
    assert len(second.claim(10)[0]) == 4
    database.dispose()
