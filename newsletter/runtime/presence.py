"""Which daemons use this database: announced by ``newsletter run``, counted by ``status``.

Several daemons may share one PostgreSQL database (each holds a shared advisory lock, so
``status`` can count them); on SQLite a second daemon refuses to start, because SQLite
cannot share the work safely. Kept apart from the daemon so that ``status`` does not load
the web server to count.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator

from sqlalchemy import URL, Connection, text

from newsletter.db.database import Database, database_file
from newsletter.errors import DatabaseError
from newsletter.files import make_private_file

_ADVISORY_KEY = 0x6E657773  # "news": the daemons' shared advisory lock on PostgreSQL
# The lock is (application key, hash of the schema): pg_locks lists the advisory locks of
# every database on the server, so the count filters on this database and this schema.
_LOCK_SHARED = "SELECT pg_advisory_lock_shared(:key, hashtext(current_schema()))"
_UNLOCK_SHARED = "SELECT pg_advisory_unlock_shared(:key, hashtext(current_schema()))"
_COUNT_HOLDERS = """
SELECT count(*) FROM pg_locks
WHERE locktype = 'advisory' AND granted AND objsubid = 2
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND classid = CAST(:key AS integer)::oid
  AND objid = hashtext(current_schema())::oid
"""


@contextlib.contextmanager
def daemon_presence(database: Database) -> Iterator[None]:
    """Announce this daemon for ``status``; on SQLite, refuse to be the second one."""
    url = database.engine.url
    if url.get_backend_name() == "sqlite":
        with _sqlite_lock(url):
            yield
        return
    # Autocommit: the lock belongs to the session, and no transaction stays open for as
    # long as the daemon runs (idle in transaction, which idle_in_transaction_session_timeout
    # would end, taking the connection and the lock with it).
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(_LOCK_SHARED), {"key": _ADVISORY_KEY})
        try:
            yield
        finally:
            connection.execute(text(_UNLOCK_SHARED), {"key": _ADVISORY_KEY})


def running_daemons(database: Database) -> int:
    """How many daemons use this database right now (on SQLite: 0 or 1)."""
    url = database.engine.url
    if url.get_backend_name() == "sqlite":
        try:
            with _sqlite_lock(url):
                return 0
        except DatabaseError:
            return 1
    with database.engine.connect() as connection:
        return _advisory_holders(connection)


def _advisory_holders(connection: Connection) -> int:
    count = connection.scalar(text(_COUNT_HOLDERS), {"key": _ADVISORY_KEY})
    return int(count or 0)


@contextlib.contextmanager
def _sqlite_lock(url: URL) -> Iterator[None]:
    path = database_file(url)
    if path is None:
        raise DatabaseError("the daemon needs a file database, not an in-memory one")
    lock = path.with_suffix(".daemon.lock")
    make_private_file(lock)  # beside the database, in its private folder, and as private
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # Name the database itself (the lock file's name ends in .daemon.lock).
            raise DatabaseError(
                f"another `newsletter run` already uses {path}; "
                "SQLite allows one daemon (use PostgreSQL to run several)"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
