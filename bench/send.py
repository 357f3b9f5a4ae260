"""Benchmark: `newsletter send` of one real edition through Postfix's smtp-sink.

For each database and list size it prints the send rate, its ratio to the ceiling that
Postfix's own C client (smtp-source) reaches against the same sink with a message of the
same size and the same number of connections, and the peak RSS of the sending process
(which must stay flat as the list grows: the sender holds two batches, not the list).

    python bench/send.py                                   # SQLite, 20k and 100k
    python bench/send.py --postgres postgresql://postgres@127.0.0.1:5432/test
    python bench/send.py --subscribers 5000 --post examples/posts/002_6fe483f1ccaa819c.txt

smtp-sink and smtp-source come with Postfix (/usr/sbin); only these two test programs
are started, never the Postfix daemon.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import psycopg
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsletter import queue  # noqa: E402
from newsletter.config import NewsletterSection, Secret, Settings  # noqa: E402
from newsletter.content import load_posts  # noqa: E402
from newsletter.delivery import editions  # noqa: E402
from newsletter.delivery.compose import Composer  # noqa: E402
from newsletter.delivery.engine import message_ids  # noqa: E402
from newsletter.models import Subscriber, utcnow  # noqa: E402
from newsletter.render import render_edition  # noqa: E402
from newsletter.store import open_database  # noqa: E402

SENDER = "nieuwsbrief@gerritvanderheide.com"
SECRET = "bench-secret-key"
DEFAULT_POST = ROOT / "examples" / "posts" / "000_0aae7e94f61de511.txt"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def message_size(post_path: Path) -> tuple[str, int]:
    post = load_posts(str(post_path))[0]
    settings = Settings(
        newsletter=NewsletterSection(from_address=SENDER), secret_key=Secret(SECRET)
    )
    now = datetime.now(UTC)
    composer = Composer(render_edition(post, settings), settings, message_ids(settings, 1, now))
    sample = composer.compose(composer.recipient(1, "lezer1@voorbeeld.nl", "Lezer 1"), 1, now=now)
    return post.slug, len(sample)


def ceiling(port: int, size: int, sessions: int, messages: int) -> float:
    """Messages per second of Postfix's smtp-source against the sink."""
    start = time.perf_counter()
    subprocess.run(
        ["/usr/sbin/smtp-source", "-s", str(sessions), "-l", str(size), "-m", str(messages),
         "-f", SENDER, "-t", "lezer@voorbeeld.nl", f"127.0.0.1:{port}"],
        check=True,
    )  # fmt: skip
    return messages / (time.perf_counter() - start)


def fresh_database(postgres: str | None, workdir: Path, label: str) -> tuple[str, str | None]:
    if postgres is None:
        return f"sqlite:///{workdir}/{label}.db", None
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in postgres else "?"
    return f"{postgres}{separator}options={quote(f'-csearch_path={schema}')}", schema


def prepare(url: str, post_path: Path, subscribers: int) -> int:
    """Subscribers, the post and a draft edition; returns the edition id."""
    database = open_database(url)
    now = utcnow()
    with database.session() as session:
        for start in range(0, subscribers, 10_000):
            session.execute(
                insert(Subscriber),
                [
                    {"email": f"lezer{n}@voorbeeld{n % 97}.nl", "name": f"Lezer {n}",
                     "status": "active", "created_at": now, "confirmed_at": now}
                    for n in range(start, min(start + 10_000, subscribers))
                ],
            )  # fmt: skip
        queue.import_posts(session, load_posts(str(post_path)))
    with database.session() as session:
        post = queue.next_unsent(session)
        assert post is not None
        edition_id = editions.create_edition(session, post, post.title)
    database.dispose()
    return edition_id


def run_send(url: str, edition_id: int, port: int, connections: int) -> tuple[dict, float, int]:
    """`newsletter send --resume N --json` in a child; (summary, wall seconds, peak RSS MiB)."""
    env = {
        **os.environ,
        "NEWSLETTER_DATABASE__URL": url,
        "NEWSLETTER_SECRET_KEY": SECRET,
        "NEWSLETTER_NEWSLETTER__FROM_ADDRESS": SENDER,
        "NEWSLETTER_SMTP__TRANSPORT": "smtp",
        "NEWSLETTER_SMTP__HOST": "127.0.0.1",
        "NEWSLETTER_SMTP__PORT": str(port),
        "NEWSLETTER_SMTP__SECURITY": "none",
        "NEWSLETTER_SMTP__CONNECTIONS": str(connections),
    }
    env.pop("NEWSLETTER_CONFIG", None)
    script = Path(sys.executable).with_name("newsletter")
    start = time.perf_counter()
    child = subprocess.Popen(
        [str(script), "send", "--resume", str(edition_id), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert child.stdout is not None
    output = child.stdout.read()
    # wait4, not wait: it returns the resource usage of exactly this child.
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if child.returncode:
        raise SystemExit(f"send failed with exit code {child.returncode}: {output!r}")
    return json.loads(output), wall, usage.ru_maxrss // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL (fresh schemas)")
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--post", type=Path, default=DEFAULT_POST)
    parser.add_argument("--ceiling-messages", type=int, default=20_000)
    args = parser.parse_args()

    slug, size = message_size(args.post)
    port = free_port()
    sink = subprocess.Popen(["/usr/sbin/smtp-sink", "-u", "nobody", f"127.0.0.1:{port}", "1000"])
    time.sleep(0.5)
    backends: list[str | None] = [] if args.no_sqlite else [None]
    if args.postgres:
        backends.append(args.postgres)
    try:
        limit = ceiling(port, size, args.connections, args.ceiling_messages)
        print(f"post {slug}: {size:,} bytes per message, {args.connections} connections")
        print(f"ceiling (smtp-source -s {args.connections} -l {size}): {limit:,.0f} msgs/s")
        print(f"{'database':<11}{'subscribers':>12}{'msgs/s':>9}{'of ceiling':>12}"
              f"{'wall msgs/s':>13}{'peak RSS':>10}")  # fmt: skip
        with tempfile.TemporaryDirectory() as tmp:
            for backend in backends:
                for count in args.subscribers:
                    label = "postgresql" if backend else "sqlite"
                    url, schema = fresh_database(backend, Path(tmp), f"{label}{count}")
                    edition_id = prepare(url, args.post, count)
                    summary, wall, rss = run_send(url, edition_id, port, args.connections)
                    assert summary["sent"] == count, summary
                    rate = summary["messages_per_second"]
                    print(f"{label:<11}{count:>12,}{rate:>9,.0f}{rate / limit:>11.0%} "
                          f"{count / wall:>12,.0f}{rss:>7} MiB")  # fmt: skip
                    if schema and backend:
                        with psycopg.connect(backend, autocommit=True) as connection:
                            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
        after = ceiling(port, size, args.connections, args.ceiling_messages)
        print(f"ceiling again after the runs: {after:,.0f} msgs/s")
    finally:
        sink.terminate()
        sink.wait()


if __name__ == "__main__":
    main()
