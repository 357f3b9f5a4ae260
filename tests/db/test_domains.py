"""The database cuts an address's domain as Python does, on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import literal, select

from newsletter.db import subscribers
from newsletter.db.database import Database
from newsletter.db.domains import email_domain
from newsletter.db.models import Delivery
from newsletter.delivery.domain_hold import domain_of
from tests.support.db import new_edition

ADDRESSES = [
    "lezer@voorbeeld.nl",
    "a.b+tag@sub.example.co.uk",
    '"iemand@thuis"@kantoor.example',  # a quoted local part with an @ of its own
    "geen-apenstaartje",
    "@leeg.example",
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_the_domain_is_what_follows_the_last_at(database: Database, address: str) -> None:
    with database.engine.connect() as connection:
        cut = connection.scalar(select(email_domain(literal(address))))
    assert cut == domain_of(address)


def test_a_new_edition_keeps_each_readers_domain(database: Database) -> None:
    edition_id, addresses = new_edition(database, 3)
    with database.session() as session:
        domains = session.scalars(
            select(Delivery.domain).where(Delivery.edition_id == edition_id)
        ).all()
    assert sorted(domains) == sorted(domain_of(address) for address in addresses)


def test_a_forgotten_readers_deliveries_keep_no_domain(database: Database) -> None:
    edition_id, addresses = new_edition(database, 2)
    with database.session() as session:
        subscribers.remove(session, addresses[0], forget=True)
    with database.session() as session:
        domains = session.scalars(
            select(Delivery.domain)
            .where(Delivery.edition_id == edition_id)
            .order_by(Delivery.subscriber_id)
        ).all()
    assert domains == [None, domain_of(addresses[1])]
