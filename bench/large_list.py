"""Benchmark: what the owner reads, at a million readers and a year of editions.

Seeds the list and its history with a few bulk statements (``tests/support/bulk.py``):
``--readers`` readers, 52 weekly editions of which the newest is being sent to every
reader and each older one went to ``--history-rows`` readers, with bounce reports,
refusals, joins, unsubscribes and owner alerts. Then it times, ``--rounds`` times each,
median printed (target: ≤ 1 s):

- ``newsletter status --json`` and ``newsletter editions show N --json``, each a child
  process as the owner runs them (start-up included);
- the owner's pages (``/beheer``, the newest edition's page and an older one's), through
  a real HTTP client against the real ASGI app, logged in by a real one-time link.

    .venv/bin/python bench/large_list.py              # SQLite, 20,000 and 1,000,000 readers
    .venv/bin/python bench/large_list.py --no-sqlite --postgres postgresql://postgres@127.0.0.1:5432/test

The 20,000-reader run is the yardstick: the same commands and pages on a small list, in
the same run and under the same load, so what the size adds stands apart from the
start-up of the command and the machine's load.

PostgreSQL runs in a schema of its own (``bench_plans_…``), dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsletter.config import load_settings  # noqa: E402
from newsletter.db import owner_logins  # noqa: E402
from newsletter.db.database import open_database  # noqa: E402
from newsletter.db.models import utcnow  # noqa: E402
from newsletter.web.app import create_app  # noqa: E402
from tests.support.bulk import LargeList, seed_large_list  # noqa: E402

SECRET = "bench-secret-key"
BASE = "http://bench.example"
Timing = tuple[float, float]  # wall seconds, CPU seconds of the process that answered


@contextmanager
def fresh_database(postgres: str | None, workdir: Path) -> Iterator[str]:
    if postgres is None:
        yield f"sqlite:///{workdir}/large.db"
        return
    schema = f"bench_plans_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        separator = "&" if "?" in postgres else "?"
        yield f"{postgres}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(postgres, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def environment(url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "NEWSLETTER_DATABASE__URL": url,
        "NEWSLETTER_SECRET_KEY": SECRET,
        "NEWSLETTER_NEWSLETTER__BASE_URL": BASE,
        "NEWSLETTER_NEWSLETTER__FROM_ADDRESS": "gerrit@bench.example",
        "NEWSLETTER_NEWSLETTER__OWNER_ADDRESS": "eigenaar@bench.example",
    }
    env.pop("NEWSLETTER_CONFIG", None)
    return env


def command_seconds(env: dict[str, str], *args: str) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one run of the command in a child."""
    script = Path(sys.executable).with_name("newsletter")
    start = time.perf_counter()
    child = subprocess.Popen(
        [str(script), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert child.stderr is not None
    errors = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(args)} failed: {errors.decode()}")
    return wall, usage.ru_utime + usage.ru_stime


async def logged_in(client: httpx.AsyncClient, url: str) -> None:
    """Open a one-time link made for the owner (the mail itself is not what is timed)."""
    database = open_database(url)
    with database.session() as session:
        token = owner_logins.issue(session, utcnow())
    database.dispose()
    path = f"/beheer/inloggen/{token}"
    page = await client.get(path)
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf, page.text[:500]
    answer = await client.post(path, data={"csrf": csrf[1]})
    assert answer.status_code == 303, answer.text[:500]


async def page_timings(url: str, pages: list[str], rounds: int) -> dict[str, list[Timing]]:
    settings = load_settings(environ=environment(url))
    database = open_database(url)
    app = create_app(settings, database)
    found: dict[str, list[Timing]] = {page: [] for page in pages}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        await logged_in(client, url)
        for _ in range(rounds):
            for page in pages:
                start, cpu = time.perf_counter(), time.process_time()
                answer = await client.get(page)
                found[page].append((time.perf_counter() - start, time.process_time() - cpu))
                assert answer.status_code == 200, (page, answer.status_code)
                assert "Inloggen" not in answer.text or page == "/beheer", page
    database.dispose()
    return found


def timed(rounds: int, run: Callable[[], Timing]) -> list[Timing]:
    return [run() for _ in range(rounds)]


def measure(url: str, newest: int, rounds: int) -> list[tuple[str, list[Timing]]]:
    env = environment(url)
    rows = [
        (
            "newsletter status --json",
            timed(rounds, lambda: command_seconds(env, "status", "--json")),
        ),
        (
            f"newsletter editions show {newest} --json",
            timed(rounds, lambda: command_seconds(env, "editions", "show", str(newest), "--json")),
        ),
        (
            f"newsletter editions show {newest - 1} --json",
            timed(
                rounds,
                lambda: command_seconds(env, "editions", "show", str(newest - 1), "--json"),
            ),
        ),
    ]
    pages = ["/beheer", f"/beheer/editie/{newest}", f"/beheer/editie/{newest - 1}"]
    run: Awaitable[dict[str, list[Timing]]] = page_timings(url, pages, rounds)
    rows += [(f"GET {page}", seconds) for page, seconds in asyncio.run(run).items()]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, nargs="+", default=[20_000, 1_000_000])
    parser.add_argument("--history-rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", help="a PostgreSQL URL: run there too (own schema)")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    backends = ([] if args.no_sqlite else [None]) + ([args.postgres] if args.postgres else [])
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    print(f"{'database':<11} {'readers':>9} {'what':<40} {'wall s':>7} {'max s':>7} {'cpu s':>7}")
    for postgres, readers in ((p, r) for p in backends for r in args.readers):
        shape = LargeList(readers, history_rows=args.history_rows)
        name = f"{'postgresql' if postgres else 'sqlite':<11} {readers:>9}"
        with tempfile.TemporaryDirectory() as work, fresh_database(postgres, Path(work)) as url:
            database = open_database(url)
            start = time.perf_counter()
            newest = seed_large_list(database, shape)
            database.dispose()
            print(f"{name} {'seeding (bulk SQL)':<40} {time.perf_counter() - start:>7.1f}")
            for what, seconds in measure(url, newest, args.rounds):
                walls = [wall for wall, _ in seconds]
                cpu = statistics.median(cpu for _, cpu in seconds)
                print(
                    f"{name} {what:<40} {statistics.median(walls):>7.3f} {max(walls):>7.3f}"
                    f" {cpu:>7.3f}"
                )
            sys.stdout.flush()
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
