"""runtime/presence: ``status`` counts the daemons of this database, and SQLite takes one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from newsletter.db.database import open_database
from newsletter.errors import DatabaseError
from newsletter.runtime.presence import daemon_presence, running_daemons


@pytest.mark.postgres
def test_daemons_sharing_postgresql_are_counted_while_they_run(postgres_url: str) -> None:
    first, second = open_database(postgres_url), open_database(postgres_url)
    try:
        assert running_daemons(first) == 0
        with daemon_presence(first):
            assert running_daemons(second) == 1
            with daemon_presence(second):
                assert running_daemons(first) == 2
            assert running_daemons(first) == 1
        assert running_daemons(second) == 0
    finally:
        first.dispose()
        second.dispose()


def test_on_sqlite_a_second_daemon_is_refused_naming_the_database(tmp_path: Path) -> None:
    path = tmp_path / "newsletter.db"
    database = open_database(f"sqlite:///{path}")
    try:
        assert running_daemons(database) == 0
        with daemon_presence(database):
            assert running_daemons(database) == 1
            refusal = f"already uses {re.escape(str(path))}; SQLite allows one"
            with pytest.raises(DatabaseError, match=refusal), daemon_presence(database):
                pass
        assert running_daemons(database) == 0
    finally:
        database.dispose()


def test_an_in_memory_database_cannot_host_a_daemon() -> None:
    database = open_database("sqlite://")
    try:
        with pytest.raises(DatabaseError, match="needs a file database"), daemon_presence(database):
            pass
    finally:
        database.dispose()
