"""The database door: engines, sessions and schema migrations.

Every command that touches the database goes through :func:`open_database`, which makes
sure the schema is at the latest revision first. A brand-new (empty) database is created
on the spot, so the demo needs no set-up step; a database at an *older* revision is never
upgraded behind the operator's back: the command stops and names ``newsletter db
upgrade``, so upgrades happen deliberately (after a backup).

Alembic is imported only when it has work to do: loading it and its migration scripts
costs a command a third of a second, and in the common case (a database at the latest
revision) one query and the migration file names answer the question.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    column,
    create_engine,
    event,
    inspect,
    select,
    table,
    text,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.shipped import resource_dir
from newsletter.errors import DatabaseError
from newsletter.files import make_private_file

if TYPE_CHECKING:
    from alembic.config import Config

VERSION_TABLE = "alembic_version"
"""Where Alembic records the schema's revision (its default name)."""

log = logging.getLogger(__name__)

# (application key "migr", hash of the schema): one schema's migrations at a time, on
# a server that may hold many databases and schemas (see ``runtime.presence``).
MIGRATION_LOCK = 0x6D696772
_LOCK_MIGRATIONS = "SELECT pg_advisory_xact_lock(:key, hashtext(current_schema()))"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def parse_url(url: str) -> URL:
    try:
        return make_url(normalise_url(url))
    except ArgumentError:
        # Not echoed: the URL may carry a password.
        raise DatabaseError(
            "invalid database URL (expected e.g. postgresql://user@host/db)"
        ) from None


def database_file(url: URL) -> Path | None:
    """The file of a SQLite database (None for PostgreSQL or an in-memory database)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def make_engine(url: str) -> Engine:
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = database_file(parsed)
        if path is not None:
            make_private_file(path)
        engine = create_engine(parsed, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(parsed, pool_pre_ping=True)
    except ModuleNotFoundError as exc:
        raise DatabaseError(
            f"the database driver {exc.name!r} is not installed; "
            "install it with: pip install 'newsletter[postgres]'"
        ) from None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets the web app read while a send writes; foreign keys are off by default."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resource_dir("migrations")))
    config.attributes["engine"] = engine
    return config


def head_revision(engine: Engine) -> str | None:
    """The latest revision, as Alembic reads it from the migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def newest_migration() -> str:
    """The newest migration file's name without ``.py``: the latest revision, read without
    Alembic, since each file is numbered and named after its revision (a test holds Alembic
    to it; should a file ever break the rule, :func:`ensure_schema` only gets slower)."""
    return max(path.stem for path in (resource_dir("migrations") / "versions").glob("*.py"))


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a database without a schema version.

    Read as Alembic reads it (a missing version table is no revision), without Alembic.
    """
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        revisions: Sequence[str] = connection.scalars(
            select(column("version_num")).select_from(table(VERSION_TABLE))
        ).all()
    if len(revisions) > 1:
        raise DatabaseError(f"the database records several schema revisions: {revisions}")
    return revisions[0] if revisions else None


def lock_migrations(connection: Connection) -> None:
    """Wait until no other process migrates this schema; the lock lasts the transaction.

    Daemons on several machines started at once against a new PostgreSQL database would
    each create the schema, and all but one fail on a duplicate name. Taken before Alembic
    reads the schema's revision, so the one that waited finds the work done. SQLite needs
    none: its writers queue on the file lock, and it allows one daemon.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text(_LOCK_MIGRATIONS), {"key": MIGRATION_LOCK})


def upgrade(engine: Engine) -> tuple[str | None, str | None]:
    """Apply every pending migration; returns (revision before, revision after)."""
    from alembic import command

    before = _describe_failure(current_revision, engine)
    command.upgrade(alembic_config(engine), "head")
    return before, current_revision(engine)


def ensure_schema(engine: Engine) -> None:
    current = _describe_failure(current_revision, engine)
    if current == newest_migration():
        return
    head = head_revision(engine)
    if current == head:
        return
    if current is None:
        # One read of the table list: another daemon may have committed the schema since
        # the revision was read, and then its version table is in the list too.
        tables = inspect(engine).get_table_names()
        if tables and VERSION_TABLE not in tables:
            raise DatabaseError(
                "the database has tables but no newsletter schema version; "
                "is database.url pointing at the right database?"
            )
        log.info("creating the database schema in %s", engine.url.render_as_string())
        upgrade(engine)
        return
    raise DatabaseError(
        f"the database schema is at revision {current}, this version needs {head}: "
        "back up the database, then run `newsletter db upgrade`"
    )


def _describe_failure(check: Any, engine: Engine) -> Any:
    try:
        return check(engine)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(
            f"cannot reach the database {engine.url.render_as_string()}: {reason}"
        ) from None


_Model = TypeVar("_Model")


def insert_unless_taken(
    session: Session, model: type[_Model], values: dict[str, Any]
) -> _Model | None:
    """``INSERT … ON CONFLICT DO NOTHING``: the new row, or None when a unique value is taken.

    For a row two processes may add at the same moment (two daemons polling one feed): the
    one that comes second gets None instead of an IntegrityError, and its transaction goes
    on. PostgreSQL first waits for the other transaction to end, so after None the next
    query sees the other's row; SQLite has one writer at a time anyway. The dialects' own
    inserts, since ``ON CONFLICT`` is not in SQLAlchemy's generic one. Not a savepoint and
    a retry: with pysqlite, a SAVEPOINT taken before the transaction's first write is no
    nested transaction (releasing it commits the insert, whatever the transaction does next).
    """
    from sqlalchemy.dialects import postgresql, sqlite  # a tenth of a second, for this alone

    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(model).values(values).on_conflict_do_nothing().returning(model)
    return session.scalars(statement).first()


class Database:
    """An engine with a migrated schema and a session factory."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self, *, dry_run: bool = False) -> Iterator[Session]:
        """One unit of work: committed when the block ends (rolled back on error or dry run)."""
        with self._sessions() as session:
            try:
                yield session
            except BaseException:
                session.rollback()
                raise
            if dry_run:
                session.rollback()
            else:
                session.commit()

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str) -> Database:
    engine = make_engine(url)
    ensure_schema(engine)
    return Database(engine)
