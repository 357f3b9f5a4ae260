"""Editions, on SQLite and PostgreSQL: the recipients frozen when one is made, and the
moves an edition makes (held, released, sending, sent, cancelled) with their refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.db.models import (
    Delivery,
    DeliveryStatus,
    EditionStatus,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from newsletter.delivery import editions
from newsletter.errors import InputError, NotFoundError
from tests.support.db import add_subscriber, add_subscribers
from tests.support.posts import add_post


def _edition(database: Database, *, force: bool = False) -> int:
    with database.session() as session:
        post = post_queue.get(session, "rust-vinden")
        return editions.create_edition(session, post, "Rust", force=force)


def test_an_edition_freezes_the_active_readers_of_that_moment(database: Database) -> None:
    add_subscribers(database, 3)
    add_subscribers(database, 2, status=SubscriberStatus.UNSUBSCRIBED, start=3)
    add_post(database)
    edition_id = _edition(database)
    add_subscriber(database, "later@voorbeeld.nl")
    with database.session() as session:
        info = editions.describe_edition(session, edition_id)
        listed = {row.email for row in editions.iterate_deliveries(session, edition_id)}
        assert editions.active_subscriber_count(session) == 4
    assert (info.status, info.recipients, info.counts["queued"]) == ("draft", 3, 3)
    assert info.tally() == {"sent": 0, "deferred": 0, "failed": 0, "skipped": 0, "waiting": 3}
    assert listed == {"lezer0@voorbeeld.nl", "lezer1@voorbeeld.nl", "lezer2@voorbeeld.nl"}


def test_a_post_goes_out_once_unless_forced(database: Database) -> None:
    add_subscribers(database, 1)
    add_post(database)
    first = _edition(database)
    with pytest.raises(InputError, match=f"already sent in edition {first}; use --force"):
        _edition(database)
    second = _edition(database, force=True)
    with database.session() as session:
        assert [info.id for info in editions.list_editions(session)] == [second, first]


def test_a_held_edition_goes_out_only_once_released(database: Database) -> None:
    add_subscribers(database, 2)
    add_post(database)
    edition_id = _edition(database)
    with database.session() as session:
        editions.hold(session, edition_id, "te veel bounces")
    with database.session() as session, pytest.raises(InputError, match="held: te veel bounces"):
        editions.start_sending(session, edition_id)
    with database.session() as session:
        editions.release_edition(session, edition_id)
    with database.session() as session, pytest.raises(InputError, match="is not held"):
        editions.release_edition(session, edition_id)
    with database.session() as session:
        edition = editions.start_sending(session, edition_id)
        assert edition.status == EditionStatus.SENDING and edition.started_at is not None


def test_an_edition_is_sent_once_no_delivery_is_open(database: Database) -> None:
    add_subscribers(database, 2)
    add_post(database)
    edition_id = _edition(database)
    with database.session() as session:
        assert editions.finish_if_done(session, edition_id) == "draft"  # not started
        editions.start_sending(session, edition_id)
        assert editions.finish_if_done(session, edition_id) == "sending"
        session.execute(
            update(Delivery)
            .where(Delivery.edition_id == edition_id)
            .values(status=DeliveryStatus.SENT)
        )
        assert editions.finish_if_done(session, edition_id) == "sent"
    with database.session() as session:
        info = editions.describe_edition(session, edition_id)
        assert info.finished_at is not None and info.to_json()["tally"]["sent"] == 2


def test_cancelling_skips_what_is_unsent_and_cannot_be_undone(database: Database) -> None:
    add_subscribers(database, 3)
    add_post(database)
    edition_id = _edition(database)
    with database.session() as session:
        assert editions.cancel_edition(session, edition_id) == 3
    with database.session() as session:
        assert editions.counts(session, edition_id)["skipped"] == 3
        with pytest.raises(InputError, match="nothing to cancel"):
            editions.cancel_edition(session, edition_id)
        with pytest.raises(InputError, match="was cancelled"):
            editions.start_sending(session, edition_id)


def test_an_unknown_edition_or_status_is_refused_by_name(database: Database) -> None:
    add_subscribers(database, 1)
    add_post(database)
    edition_id = _edition(database)
    with database.session() as session:
        with pytest.raises(NotFoundError, match="no edition 999"):
            editions.describe_edition(session, 999)
        with pytest.raises(InputError, match="unknown delivery status 'lost'"):
            list(editions.iterate_deliveries(session, edition_id, "lost"))
        assert list(editions.iterate_deliveries(session, edition_id, "sent")) == []


def test_an_edition_skips_paused_readers_until_their_pause_is_over(database: Database) -> None:
    add_subscribers(database, 3)
    add_post(database)
    now = utcnow()
    with database.session() as session:
        session.execute(
            update(Subscriber)
            .where(Subscriber.email == "lezer0@voorbeeld.nl")
            .values(paused_until=now + timedelta(weeks=2))
        )
        session.execute(
            update(Subscriber)
            .where(Subscriber.email == "lezer1@voorbeeld.nl")
            .values(paused_until=now - timedelta(seconds=1))  # the pause ended by itself
        )
    edition_id = _edition(database)
    with database.session() as session:
        listed = {row.email for row in editions.iterate_deliveries(session, edition_id)}
        assert editions.active_subscriber_count(session) == 2
    assert listed == {"lezer1@voorbeeld.nl", "lezer2@voorbeeld.nl"}
