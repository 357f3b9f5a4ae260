"""Benchmark: the ledger's claim and write of a batch (``Ledger.claim``, ``Ledger.record``).

Claims an edition's deliveries in batches of 200 (the engine's batch size) and records
each batch as sent, timing both: the claim (one UPDATE … RETURNING over the work index,
then the readers' addresses) and the record (one executemany that writes each row's own
Message-ID). Prints the median and mean of ``record`` per batch, and the median of each
in the first and the last tenth of the edition: at a million readers the last batches
must cost what the first did, or the send slows down as it goes.

    python bench/ledger.py                                   # SQLite, 10,000 subscribers
    python bench/ledger.py --subscribers 20000 1000000 --postgres postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from send import seed_readers  # noqa: E402

from newsletter.config import NewsletterSection, Secret, Settings  # noqa: E402
from newsletter.db import post_queue  # noqa: E402
from newsletter.db.database import open_database  # noqa: E402
from newsletter.delivery import editions  # noqa: E402
from newsletter.delivery.attempt import Attempt, Outcome  # noqa: E402
from newsletter.delivery.ledger import Ledger  # noqa: E402
from newsletter.delivery.message_ids import message_ids  # noqa: E402
from newsletter.delivery.outcomes import Result, RetryPolicy  # noqa: E402
from newsletter.feeds.sources import load_posts  # noqa: E402

POST = ROOT / "examples" / "posts" / "000_0aae7e94f61de511.txt"
SETTINGS = Settings(
    newsletter=NewsletterSection(from_address="nieuwsbrief@gerritvanderheide.com"),
    secret_key=Secret("bench-secret-key"),
)


def measure(url: str, subscribers: int, batch: int) -> tuple[list[float], list[float]]:
    """Seconds of each ``claim`` and of each ``record``, in the order of the edition."""
    database = open_database(url)
    seed_readers(database, subscribers)
    with database.session() as session:
        post_queue.import_posts(session, load_posts(str(POST)))
    with database.session() as session:
        post = post_queue.next_unsent(session)
        assert post is not None
        edition_id = editions.create_edition(session, post, post.title)
        editions.start_sending(session, edition_id)
    ledger = Ledger(
        database.engine,
        edition_id,
        lease=timedelta(minutes=10),
        retry=RetryPolicy.of(SETTINGS.smtp),
        message_ids=message_ids(SETTINGS).of_edition(edition_id),
    )
    sent = Attempt(Outcome.SENT, "250 2.0.0 Ok")
    claim_times: list[float] = []
    times: list[float] = []
    while True:
        start = time.perf_counter()
        claims, _ = ledger.claim(batch)
        claim_times.append(time.perf_counter() - start)
        if not claims:
            break
        results = [Result(claim, sent) for claim in claims]
        start = time.perf_counter()
        ledger.record(results)
        times.append(time.perf_counter() - start)
    database.dispose()
    return claim_times[:-1], times


def tenths(times: list[float]) -> str:
    """Median milliseconds of the first and of the last tenth of the batches."""
    tenth = max(1, len(times) // 10)
    first, last = statistics.median(times[:tenth]), statistics.median(times[-tenth:])
    return f"{first * 1000:.2f} → {last * 1000:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[10_000])
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL (a fresh schema)")
    args = parser.parse_args()
    for subscribers in args.subscribers:
        run_size(args, subscribers)


def run_size(args: argparse.Namespace, subscribers: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        runs = [("sqlite", f"sqlite:///{folder}/ledger.db", None)]
        if args.postgres:
            schema = f"bench_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(args.postgres, autocommit=True) as connection:
                connection.execute(f'CREATE SCHEMA "{schema}"')
            separator = "&" if "?" in args.postgres else "?"
            options = quote(f"-csearch_path={schema}")
            runs.append(("postgresql", f"{args.postgres}{separator}options={options}", schema))
        for label, url, schema in runs:
            try:
                claim_times, times = measure(url, subscribers, args.batch)
            finally:
                if schema is not None:
                    with psycopg.connect(args.postgres, autocommit=True) as connection:
                        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
            median = statistics.median(times)
            print(
                f"{label:<11}{subscribers:>10,} record() of {args.batch} sent: median "
                f"{median * 1000:.2f} ms, mean {statistics.mean(times) * 1000:.2f} ms, "
                f"{median / args.batch * 1e6:.1f} µs per message ({len(times)} batches)"
            )
            print(
                f"{'':<21} first → last tenth: claim {tenths(claim_times)}, record {tenths(times)}"
            )


if __name__ == "__main__":
    main()
