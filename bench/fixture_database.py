"""What a test's database costs to set up: the migrations run for it, or a copy of them.

The ``database`` fixture of the test suite used to migrate an empty database per test;
it now copies a template migrated once per test process (``tests/support/schema.py``).
This prints the mean of both ways, per backend, each ending in ``open_database``.

    .venv/bin/python bench/fixture_database.py --postgres postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newsletter.db.database import open_database
from tests.support.schema import (
    Statement,
    copy_sqlite,
    migrate_sqlite_template,
    record_postgres_migrations,
    replay_postgres,
)


def mean_ms(rounds: int, setup: Callable[[], None]) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        setup()
    return (time.perf_counter() - start) / rounds * 1000


@contextmanager
def empty_schema(base: str) -> Iterator[str]:
    """The URL of a new PostgreSQL schema, as the suite's ``postgres_url`` makes one."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base}?options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(base, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--postgres", help="a PostgreSQL URL; without it only SQLite")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    template = migrate_sqlite_template(work / "template.db")

    def sqlite(copy: bool) -> None:
        url = f"sqlite:///{tempfile.mkdtemp(dir=work)}/newsletter.db"
        if copy:
            copy_sqlite(template, url)
        open_database(url).engine.dispose()

    rows = [
        ("sqlite", "migrate", mean_ms(args.rounds, lambda: sqlite(False))),
        ("sqlite", "copy", mean_ms(args.rounds, lambda: sqlite(True))),
    ]
    if args.postgres:
        with empty_schema(args.postgres) as url:
            recorded = record_postgres_migrations(url)

        def postgres(statements: list[Statement] | None) -> None:
            with empty_schema(args.postgres) as url:
                if statements is not None:
                    with psycopg.connect(url) as connection:
                        replay_postgres(statements, connection)
                open_database(url).engine.dispose()

        rows += [
            ("postgresql", "migrate", mean_ms(args.rounds, lambda: postgres(None))),
            ("postgresql", "copy", mean_ms(args.rounds, lambda: postgres(recorded))),
        ]
    print(f"{'database':<11} {'set-up':<8} {'ms per test':>11}")
    for backend, way, ms in rows:
        print(f"{backend:<11} {way:<8} {ms:>11.0f}")


if __name__ == "__main__":
    main()
