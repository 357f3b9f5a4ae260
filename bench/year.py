"""Benchmark: a year of the newsletter without hands (issue 25, point 1).

Drives the daemon's real jobs through ``--weeks`` weeks (52 by default) with an injected
clock, against the real database, a fault-injecting relay, a loopback feed server, the
inbound listener for returned mail and the web app (``tests/support/year``), and prints
one row per week with the invariants' verdict. The same ``--seed`` makes the same year,
so a failing one can be run again.

    python bench/year.py                  # SQLite, seed 1, 52 weeks from next year's first Monday
    python bench/year.py --database postgresql --seed 7
    python bench/year.py --weeks 5 --start 2027-03-15 --seed 25 --every-kind  # the test's, in 2026

``twice`` counts copies a SIGKILL caught in flight (accepted by the relay, not yet
recorded) that went out again after the restart: the one duplicate the invariant allows.

On PostgreSQL it works in a schema of its own (``year_bench_<pid>``) of
``--postgres-url``, dropped afterwards. Exits 1 when any week broke an invariant.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from urllib.parse import quote

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.year.plan import first_monday, make_plan
from tests.support.year.simulation import WeekRow, Year
from tests.support.year.world import running_world

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
COLUMNS = (
    ("week", 9), ("posts", 5), ("edition", 10), ("readers", 7), ("delivered", 9),
    ("deferred", 8), ("bounced", 7), ("complaints", 10), ("alerts", 6), ("kills", 5), ("twice", 5),
)  # fmt: skip


def line(row: WeekRow) -> str:
    cells = [str(getattr(row, name)).rjust(width) for name, width in COLUMNS]
    verdict = "ok" if not row.problems else f"BROKEN: {'; '.join(row.problems)}"
    return "  ".join(cells) + "  " + verdict


def run(url: str, args: argparse.Namespace, workdir: Path) -> int:
    start = first_monday(*date.fromisoformat(args.start).timetuple()[:3])
    plan = make_plan(args.seed, args.weeks, start, every_kind=args.every_kind)
    print(f"seed {args.seed}, {args.weeks} weeks from {start.date()}, {url.split(':')[0]}")
    print("  ".join(name.rjust(width) for name, width in COLUMNS) + "  invariants")
    broken = 0
    began = time.monotonic()
    with running_world(url) as world:
        for row in Year(world, plan, args.seed, workdir).weeks():
            print(line(row), flush=True)
            broken += bool(row.problems)
    load = os.getloadavg()
    print(f"{time.monotonic() - began:.0f} s, weeks broken: {broken}, load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")  # fmt: skip
    return 1 if broken else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument(
        "--start", default="2027-01-04", help="a date; the year starts on the Monday from it"
    )
    parser.add_argument(
        "--every-kind", action="store_true", help="every kind of event at least once, as the test"
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsletter-year-") as folder:
        logging.basicConfig(filename=Path(folder) / "year.log", level=logging.WARNING)
        if args.database == "sqlite":
            return run(f"sqlite:///{folder}/newsletter.db", args, Path(folder))
        schema = f"year_bench_{os.getpid()}"
        with psycopg.connect(args.postgres_url, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
        try:
            url = f"{args.postgres_url}?options={quote(f'-csearch_path={schema}')}"
            return run(url, args, Path(folder))
        finally:
            with psycopg.connect(args.postgres_url, autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    sys.exit(main())
