from __future__ import annotations

import psycopg
import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from newsletter.db import database as database_module
from newsletter.db.database import (
    MIGRATION_LOCK,
    alembic_config,
    current_revision,
    ensure_schema,
    head_revision,
    make_engine,
    newest_migration,
    open_database,
    upgrade,
)
from newsletter.errors import DatabaseError
from tests.support.daemons import RunnerFactory
from tests.support.system import wait_until

TABLES = {"subscribers", "posts", "editions", "deliveries", "events", "installation"}


def test_upgrade_creates_every_table_on_an_empty_database(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        before, after = upgrade(engine)
        assert before is None
        assert after == head_revision(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
        # Running it again changes nothing.
        assert upgrade(engine) == (after, after)
    finally:
        engine.dispose()


def test_models_and_migrations_do_not_drift(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        command.check(alembic_config(engine))  # raises when autogenerate finds a difference
    finally:
        engine.dispose()


def test_downgrade_to_empty_and_back(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        command.downgrade(alembic_config(engine), "base")
        assert not TABLES & set(inspect(engine).get_table_names())
        upgrade(engine)
        assert current_revision(engine) == head_revision(engine)
    finally:
        engine.dispose()


def test_events_are_append_only(database_url: str) -> None:
    database = open_database(database_url)
    try:
        with database.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO events (occurred_at, kind, actor) "
                    "VALUES (CURRENT_TIMESTAMP, 'send', 'test')"
                )
            )
        for statement in ("UPDATE events SET kind = 'x'", "DELETE FROM events"):
            with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as c:
                c.execute(text(statement))
    finally:
        database.dispose()


def test_the_newest_migration_file_is_named_after_alembics_head() -> None:
    """What lets ``open_database`` see a database at the latest revision without Alembic:
    a new migration's file is numbered after the others and named after its revision."""
    engine = make_engine("sqlite://")
    try:
        assert newest_migration() == head_revision(engine)
    finally:
        engine.dispose()


def test_a_database_at_the_latest_revision_is_opened_as_it_is(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        ensure_schema(engine)
        assert current_revision(engine) == head_revision(engine)
    finally:
        engine.dispose()


def test_an_outdated_schema_is_not_upgraded_silently(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
        with pytest.raises(DatabaseError, match="newsletter db upgrade"):
            ensure_schema(engine)
    finally:
        engine.dispose()


def test_a_schema_another_process_made_after_the_revision_was_read_is_opened(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two daemons on a new database: the second read no revision, then the first committed
    the whole schema before the second listed the tables."""
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        monkeypatch.setattr(database_module, "current_revision", lambda engine: None)
        ensure_schema(engine)
        monkeypatch.undo()
        assert current_revision(engine) == head_revision(engine)
    finally:
        engine.dispose()


def test_a_foreign_database_is_refused(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE someone_elses (id INTEGER)"))
        with pytest.raises(DatabaseError, match="no newsletter schema version"):
            ensure_schema(engine)
    finally:
        engine.dispose()


_WAITING_FOR_MIGRATIONS = """
SELECT count(*) FROM pg_locks
WHERE locktype = 'advisory' AND NOT granted AND objsubid = 2
  AND classid = %(key)s::oid AND objid = hashtext(current_schema())::oid
"""


@pytest.mark.postgres
def test_processes_creating_one_postgresql_schema_at_once_take_turns(
    postgres_url: str, runner_factory: RunnerFactory
) -> None:
    """Daemons on several machines started together on a new database: without turns,
    all but one fail on a duplicate type name halfway through creating the schema."""
    runner = runner_factory(postgres_url, smtp_port=25)
    with psycopg.connect(postgres_url) as holder:
        holder.execute(
            "SELECT pg_advisory_xact_lock(%(key)s, hashtext(current_schema()))",
            {"key": MIGRATION_LOCK},
        )
        upgrades = [runner.spawn("db", "upgrade") for _ in range(2)]

        def both_wait() -> bool:
            with psycopg.connect(postgres_url) as probe:
                row = probe.execute(_WAITING_FOR_MIGRATIONS, {"key": MIGRATION_LOCK}).fetchone()
            return row is not None and row[0] == 2

        wait_until(both_wait, timeout=60, what="both processes to wait for the migration lock")
    # The holder's transaction ended (the lock with it): they go one after the other.
    outputs = [upgrade.communicate(timeout=60) for upgrade in upgrades]
    assert [upgrade.returncode for upgrade in upgrades] == [0, 0], outputs
    engine = make_engine(postgres_url)
    try:
        assert current_revision(engine) == head_revision(engine)
    finally:
        engine.dispose()


def test_unreachable_database_is_one_clear_error() -> None:
    with pytest.raises(DatabaseError, match="cannot reach the database"):
        open_database("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_invalid_url_is_one_clear_error() -> None:
    with pytest.raises(DatabaseError, match="invalid database URL"):
        open_database("not a url")
