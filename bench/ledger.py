"""Benchmark: the ledger's write of a batch of sent messages (``Ledger.record``).

Claims an edition's deliveries in batches of 200 (the engine's batch size) and records
each batch as sent, timing only ``record``: the one statement that writes each row's own
Message-ID (an executemany). Prints the median and mean per batch.

    python bench/ledger.py                                   # SQLite, 10,000 subscribers
    python bench/ledger.py --postgres postgresql://postgres@127.0.0.1:5432/test
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
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsletter.config import NewsletterSection, Secret, Settings  # noqa: E402
from newsletter.db import post_queue  # noqa: E402
from newsletter.db.database import open_database  # noqa: E402
from newsletter.db.models import Subscriber, utcnow  # noqa: E402
from newsletter.delivery import editions  # noqa: E402
from newsletter.delivery.attempt import Attempt, Outcome  # noqa: E402
from newsletter.delivery.engine import retry_policy  # noqa: E402
from newsletter.delivery.ledger import Ledger  # noqa: E402
from newsletter.delivery.message_ids import message_ids  # noqa: E402
from newsletter.delivery.outcomes import Result  # noqa: E402
from newsletter.feeds.sources import load_posts  # noqa: E402

POST = ROOT / "examples" / "posts" / "000_0aae7e94f61de511.txt"
SETTINGS = Settings(
    newsletter=NewsletterSection(from_address="nieuwsbrief@gerritvanderheide.com"),
    secret_key=Secret("bench-secret-key"),
)


def measure(url: str, subscribers: int, batch: int) -> list[float]:
    database = open_database(url)
    now = utcnow()
    with database.session() as session:
        session.execute(
            insert(Subscriber),
            [
                {"email": f"lezer{n}@voorbeeld.nl", "status": "active",
                 "created_at": now, "confirmed_at": now}
                for n in range(subscribers)
            ],
        )  # fmt: skip
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
        retry=retry_policy(SETTINGS),
        message_ids=message_ids(SETTINGS).of_edition(edition_id),
    )
    sent = Attempt(Outcome.SENT, "250 2.0.0 Ok")
    times: list[float] = []
    while True:
        claims, _ = ledger.claim(batch)
        if not claims:
            break
        results = [Result(claim, sent) for claim in claims]
        start = time.perf_counter()
        ledger.record(results)
        times.append(time.perf_counter() - start)
    database.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL (a fresh schema)")
    args = parser.parse_args()
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
                times = measure(url, args.subscribers, args.batch)
            finally:
                if schema is not None:
                    with psycopg.connect(args.postgres, autocommit=True) as connection:
                        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
            median = statistics.median(times)
            print(
                f"{label:<11} record() of {args.batch} sent: median {median * 1000:.2f} ms, "
                f"mean {statistics.mean(times) * 1000:.2f} ms, {median / args.batch * 1e6:.1f} µs "
                f"per message ({len(times)} batches)"
            )


if __name__ == "__main__":
    main()
