"""Rows the tests need in the database: subscribers, editions, and reading them back.

Inserted through the models (or one bulk statement for thousands of subscribers), so a
test starts from the state it is about without driving the whole CLI to get there.
"""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import insert, select, text

from newsletter.content.post import Post
from newsletter.db import post_queue
from newsletter.db.database import Database, alembic_config, make_engine, open_database
from newsletter.db.models import Edition, Event, Subscriber, SubscriberStatus, utcnow
from newsletter.db.models import Post as PostRow
from newsletter.delivery import editions

from .posts import add_post


def add_subscribers(
    database: Database, count: int, *, status: str = SubscriberStatus.ACTIVE, start: int = 0
) -> list[str]:
    """``count`` subscribers ``lezer{n}@voorbeeld.nl``, inserted in one statement."""
    now = utcnow()
    rows = [
        {
            "email": f"lezer{n}@voorbeeld.nl",
            "name": f"Lezer {n}" if n % 3 else None,
            "status": status,
            "created_at": now,
            "confirmed_at": now,
        }
        for n in range(start, start + count)
    ]
    with database.session() as session:
        session.execute(insert(Subscriber), rows)
    return [row["email"] for row in rows]


def add_subscriber(
    database: Database,
    address: str,
    status: SubscriberStatus = SubscriberStatus.ACTIVE,
    name: str | None = None,
) -> int:
    """One subscriber; its id."""
    with database.session() as session:
        subscriber = Subscriber(email=address, name=name, status=status)
        session.add(subscriber)
        session.flush()
        return subscriber.id


def subscriber_row(database: Database, subscriber_id: int) -> Subscriber:
    with database.session() as session:
        row = session.get(Subscriber, subscriber_id)
        assert row is not None
        return row


def events_of(database: Database, subscriber_id: int) -> list[tuple[str, str]]:
    """(kind, actor) of every event about one subscriber, oldest first."""
    with database.session() as session:
        rows = session.execute(
            select(Event.kind, Event.actor)
            .where(Event.subscriber_id == subscriber_id)
            .order_by(Event.id)
        )
        return [(kind, actor) for kind, actor in rows]


def new_edition(database: Database, subscribers: int) -> tuple[int, list[str]]:
    """``subscribers`` readers and an edition of the default post for them: (id, addresses)."""
    addresses = add_subscribers(database, subscribers)
    slug = add_post(database)
    with database.session() as session:
        return editions.create_edition(session, post_queue.get(session, slug), "Rust"), addresses


def new_edition_at(database_url: str, subscribers: int) -> tuple[int, list[str]]:
    """:func:`new_edition` in the database at ``database_url`` (for tests whose processes
    open it themselves)."""
    database = open_database(database_url)
    try:
        return new_edition(database, subscribers)
    finally:
        database.dispose()


def delivery_states(database: Database, edition_id: int) -> dict[str, tuple[str, int, str | None]]:
    """Per address: (status, attempts, last reply) of its delivery in the ledger."""
    with database.session() as session:
        return {
            row.email: (row.status, row.attempts, row.last_reply)
            for row in editions.iterate_deliveries(session, edition_id)
            if row.email
        }


def assert_states_add_up(database: Database, edition_id: int) -> dict[str, int]:
    """sent + deferred + failed + skipped + waiting = recipients; returns that tally."""
    with database.session() as session:
        info = editions.describe_edition(session, edition_id)
    tally = info.tally()
    assert sum(tally.values()) == info.recipients, (tally, info.recipients)
    return tally


def add_edition(database: Database, post: Post, status: str) -> int:
    """Import ``post`` and give it an edition in ``status`` (the delivery engine's rows)."""
    with database.session() as session:
        post_queue.import_posts(session, [post])
        row = session.scalars(select(PostRow).where(PostRow.slug == post.slug)).one()
        now = datetime.now(UTC)
        edition = Edition(
            post_id=row.id,
            status=status,
            subject=post.title,
            created_at=now,
            started_at=now if status in ("sending", "sent") else None,
            finished_at=now if status == "sent" else None,
        )
        session.add(edition)
        session.flush()
        return edition.id


def upgraded_from(
    database_url: str, revision: str, statements: list[str], **params: object
) -> Database:
    """The database migrated to ``revision``, given the rows of ``statements`` (written as
    that revision's code wrote them, with ``params``), then upgraded to the head: what an
    upgrade makes of an installation's data. The caller disposes of it."""
    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), revision)
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement), params)
        command.upgrade(alembic_config(engine), "head")
    finally:
        engine.dispose()
    return open_database(database_url)
