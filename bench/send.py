"""Benchmark: `newsletter send` of one real edition through Postfix's smtp-sink.

For each database and list size it prints the send rate, its ratio to the ceiling that
Postfix's own C client (smtp-source) reaches against the same sink with a message of the
same size and the same number of connections, and the peak RSS of the sending process
(which must stay flat as the list grows: the sender holds two batches, not the list).

    python bench/send.py                                   # SQLite, 20k and 100k
    python bench/send.py --postgres postgresql://postgres@127.0.0.1:5432/test
    python bench/send.py --subscribers 5000 --post examples/posts/002_6fe483f1ccaa819c.txt
    python bench/send.py --max-per-second 100 300 --subscribers 3000   # the rate limit
    python bench/send.py --subscribers 20k 1M --tail 20k    # the last 20k of each edition
    python bench/send.py --subscribers 20000 20000 --verp   # alternately with VERP return paths
    python bench/send.py --fault-mix --subscribers 5000                # faults vs clean
    python bench/send.py --senders 3 --no-sqlite --postgres URL       # three processes
    python bench/send.py --rounds 3 --connections 16                  # issue 26's figure

With ``--fault-mix`` it compares, in one run, a clean relay with one that fails like a
real one (451 4.3.0 to every 37th RCPT, 550 5.1.1 to every 50th, a hang-up in every 97th
DATA): both are the same aiosmtpd relay in a process of its own (``bench/fault_relay.py``),
so only the faults differ; target: the faulty run at ≥ 70 % of the clean rate. With
``--senders 3`` it compares one ``send --resume`` with three at once on one edition
(PostgreSQL, no limit), through smtp-sink.

With ``--max-per-second`` it measures the rate limit instead: one send per limit with
``smtp.max_per_second`` set, in this process, printing the achieved rate and its
deviation from the limit (target within 2 %); see :func:`rate_limit`.

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
from sqlalchemy import bindparam, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsletter.config import NewsletterSection, Secret, Settings, load_settings  # noqa: E402
from newsletter.db import post_queue  # noqa: E402
from newsletter.db.database import Database, open_database  # noqa: E402
from newsletter.db.models import UTCDateTime, utcnow  # noqa: E402
from newsletter.delivery import editions  # noqa: E402
from newsletter.delivery.engine import send_edition  # noqa: E402
from newsletter.delivery.message_ids import message_ids  # noqa: E402
from newsletter.feeds.sources import load_posts  # noqa: E402
from newsletter.mail.compose import Composer  # noqa: E402
from newsletter.mail.render import render_edition  # noqa: E402

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
    composer = Composer(
        render_edition(post, settings.newsletter),
        settings.newsletter,
        message_ids(settings).of_edition(1),
        secret=SECRET,
        signer=None,
    )
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


def prepare(
    url: str, post_path: Path, subscribers: int, *, edition: bool = True
) -> tuple[int, float]:
    """Subscribers, the post and a draft edition; returns the edition id and the seconds
    ``create_edition`` took (one delivery row per reader, the count, the event); (0, 0.0)
    with ``edition=False``: the post waits in the queue for `newsletter send --next`."""
    database = open_database(url)
    seed_readers(database, subscribers)
    with database.session() as session:
        post_queue.import_posts(session, load_posts(str(post_path)))
    if not edition:
        database.dispose()
        return 0, 0.0
    with database.session() as session:
        post = post_queue.next_unsent(session)
        assert post is not None
        start = time.perf_counter()
        edition_id = editions.create_edition(session, post, post.title)
    seconds = time.perf_counter() - start  # the commit included
    database.dispose()
    return edition_id, seconds


def seed_readers(database: Database, count: int) -> None:
    """``count`` active readers in one ``INSERT … SELECT`` over a generated series.

    At a million, rows built in Python and inserted through SQLAlchemy took minutes of
    set-up per run; the series is seconds. The import is measured by its own bench.
    """
    series = (
        "SELECT generate_series(0, :count - 1) AS n"
        if database.engine.dialect.name == "postgresql"
        else "WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n + 1 < :count)"
        " SELECT n FROM s"
    )
    statement = text(
        "INSERT INTO subscribers (email, name, status, created_at, confirmed_at)"
        " SELECT 'lezer' || n || '@voorbeeld' || (n % 97) || '.nl', 'Lezer ' || n,"
        f" 'active', :now, :now FROM ({series}) AS series"
    ).bindparams(bindparam("now", type_=UTCDateTime()))
    with database.session() as session:
        session.execute(statement, {"count": count, "now": utcnow()})


def leave_unsent(url: str, edition_id: int, tail: int) -> None:
    """Mark all but the last ``tail`` deliveries of the edition sent, as if a send of the
    whole list had come that far: the rest then goes out from a ledger of the full size.

    One UPDATE, without a VACUUM after it: on PostgreSQL the claims then meet every dead
    index entry it left, more than a real send leaves between two autovacuums.
    """
    database = open_database(url)
    with database.session() as session:
        session.execute(
            text(
                "UPDATE deliveries SET status = 'sent', attempts = 1, sent_at = :now"
                " WHERE edition_id = :edition AND id <= :tail_from"
            ).bindparams(bindparam("now", type_=UTCDateTime())),
            {
                "now": utcnow(),
                "edition": edition_id,
                "tail_from": session.scalar(
                    text("SELECT max(id) FROM deliveries WHERE edition_id = :edition"),
                    {"edition": edition_id},
                )
                - tail,
            },
        )
    database.dispose()


def parse_size(text: str) -> int:
    """A list size as written on the command line: ``20000``, ``20k`` or ``1M``."""
    units = {"k": 1_000, "m": 1_000_000}
    suffix = text[-1:].lower()
    try:
        return int(float(text[:-1]) * units[suffix]) if suffix in units else int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list size: {text!r}") from None


def sender_env(url: str, port: int, connections: int, bounce_address: str = "") -> dict[str, str]:
    """The child's environment; ``bounce_address`` switches VERP on (a signed MAIL FROM each)."""
    env = {
        "NEWSLETTER_BOUNCES__ADDRESS": bounce_address,
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
    return env


def start_send(
    url: str, edition_id: int, port: int, connections: int, bounce_address: str = ""
) -> subprocess.Popen:
    """`send --resume N`; edition 0 is the whole command: `send --next --yes` (check too)."""
    script = Path(sys.executable).with_name("newsletter")
    chosen = ["--resume", str(edition_id)] if edition_id else ["--next", "--yes"]
    return subprocess.Popen(
        [str(script), "send", *chosen, "--json"],
        env=sender_env(url, port, connections, bounce_address),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def run_send(
    url: str, edition_id: int, port: int, connections: int, bounce_address: str = ""
) -> tuple[dict, float, int]:
    """`newsletter send --resume N --json` in a child; (summary, wall seconds, peak RSS MiB)."""
    start = time.perf_counter()
    child = start_send(url, edition_id, port, connections, bounce_address)
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
    parser.add_argument(
        "--subscribers",
        type=parse_size,
        nargs="+",
        help="list sizes (default 20000 100000; 3000 with --max-per-second)",
    )
    parser.add_argument(
        "--tail",
        type=parse_size,
        metavar="N",
        help="send only the last N of each edition, the rest marked sent first (see leave_unsent)",
    )
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL (fresh schemas)")
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--post", type=Path, default=DEFAULT_POST)
    parser.add_argument("--ceiling-messages", type=int, default=20_000)
    parser.add_argument(
        "--verp",
        action="store_true",
        help="send each list twice, without and with [bounces] address (VERP return paths)",
    )
    parser.add_argument(
        "--max-per-second",
        type=float,
        nargs="+",
        metavar="RATE",
        help="measure the rate limit: one send per RATE with smtp.max_per_second=RATE",
    )
    parser.add_argument(
        "--fault-mix", action="store_true", help="a faulty relay next to a clean one"
    )
    parser.add_argument(
        "--senders", type=int, metavar="N", help="N send processes on one edition vs one"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        metavar="N",
        help="issue 26: N rounds of smtp-source then the whole `send --next` (medians)",
    )
    args = parser.parse_args()
    if args.rounds:
        from send_rounds import rounds  # the module next to this script

        args.subscribers = args.subscribers or [20_000]
        return rounds(args)
    if args.fault_mix:
        args.subscribers = args.subscribers or [5_000]
        return fault_mix(args)
    if args.senders:
        args.subscribers = args.subscribers or [20_000]
        return senders(args)
    if args.max_per_second:
        args.subscribers = args.subscribers or [3_000]
        return rate_limit(args)
    args.subscribers = args.subscribers or [20_000, 100_000]

    slug, size = message_size(args.post)
    port = free_port()
    sink = subprocess.Popen(["/usr/sbin/smtp-sink", "-u", "nobody", f"127.0.0.1:{port}", "1000"])
    time.sleep(0.5)
    backends: list[str | None] = [] if args.no_sqlite else [None]
    verps = ["", "bounces@gerritvanderheide.com"] if args.verp else [""]
    if args.postgres:
        backends.append(args.postgres)
    try:
        limit = ceiling(port, size, args.connections, args.ceiling_messages)
        print(f"post {slug}: {size:,} bytes per message, {args.connections} connections")
        if args.tail:
            print(f"each edition: all but the last {args.tail:,} marked sent, those sent")
        print(f"ceiling (smtp-source -s {args.connections} -l {size}): {limit:,.0f} msgs/s")
        print(f"{'database':<13}{'subscribers':>12}{'msgs/s':>9}{'of ceiling':>12}"
              f"{'wall msgs/s':>13}{'peak RSS':>10}{'edition s':>11}")  # fmt: skip
        with tempfile.TemporaryDirectory() as tmp:
            for backend in backends:
                pairs = [(count, verp) for count in args.subscribers for verp in verps]
                for run, (count, verp) in enumerate(pairs):
                    label = ("postgresql" if backend else "sqlite") + ("+verp" if verp else "")
                    url, schema = fresh_database(backend, Path(tmp), f"{label}{count}-{run}")
                    edition_id, made = prepare(url, args.post, count)
                    if args.tail:
                        leave_unsent(url, edition_id, args.tail)
                    to_send = min(count, args.tail or count)
                    summary, wall, rss = run_send(url, edition_id, port, args.connections, verp)
                    assert summary["sent"] == to_send, summary
                    rate = summary["messages_per_second"]
                    print(f"{label:<13}{count:>12,}{rate:>9,.0f}{rate / limit:>11.0%} "
                          f"{to_send / wall:>12,.0f}{rss:>7} MiB{made:>11.1f}")  # fmt: skip
                    if schema and backend:
                        with psycopg.connect(backend, autocommit=True) as connection:
                            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
        after = ceiling(port, size, args.connections, args.ceiling_messages)
        print(f"ceiling again after the runs: {after:,.0f} msgs/s")
    finally:
        sink.terminate()
        sink.wait()


def fault_mix(args: argparse.Namespace) -> None:
    """Clean and faulty relay, same relay program, same list size, in one run."""
    slug, size = message_size(args.post)
    print(f"post {slug}: {size:,} bytes per message, {args.connections} connections, sqlite")
    print(f"{'relay':<7}{'subscribers':>12}{'sent':>8}{'deferred':>10}{'failed':>8}"
          f"{'msgs/s':>9}{'tried/s':>9}{'of clean':>10}{'slowdowns':>11}")  # fmt: skip
    clean_rates: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("clean", "mix"):
            relay = subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / "fault_relay.py"), kind],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,  # aiosmtpd logs every hang-up
                text=True,
            )
            assert relay.stdout is not None
            port = int(relay.stdout.readline())
            try:
                for count in args.subscribers:
                    url, _ = fresh_database(None, Path(tmp), f"{kind}{count}")
                    edition_id, _ = prepare(url, args.post, count)
                    summary, _, _ = run_send(url, edition_id, port, args.connections)
                    tried = summary["sent"] + summary["deferred"] + summary["failed"]
                    rate = tried / summary["seconds"]
                    clean_rate = clean_rates.setdefault(count, rate)
                    print(f"{kind:<7}{count:>12,}{summary['sent']:>8,}{summary['deferred']:>10,}"
                          f"{summary['failed']:>8,}{summary['messages_per_second']:>9,.0f}"
                          f"{rate:>9,.0f}{rate / clean_rate:>9.0%}"
                          f"{summary['slowdowns']:>11}")  # fmt: skip
            finally:
                relay.terminate()
                relay.wait()


def senders(args: argparse.Namespace) -> None:
    """One sender, then ``args.senders`` at once, each on a fresh edition of its own size."""
    if not args.postgres:
        raise SystemExit("--senders needs --postgres (SQLite has one writer)")
    slug, size = message_size(args.post)
    port = free_port()
    sink = subprocess.Popen(["/usr/sbin/smtp-sink", "-u", "nobody", f"127.0.0.1:{port}", "1000"])
    time.sleep(0.5)
    print(f"post {slug}: {size:,} bytes per message, {args.connections} connections each, "
          "postgresql, no limit")  # fmt: skip
    print(f"{'senders':>8}{'subscribers':>13}{'wall msgs/s':>13}{'vs one':>8}  per sender")
    single = 0.0
    try:
        for count in args.subscribers:
            for number in (1, args.senders):
                url, schema = fresh_database(args.postgres, Path("."), "senders")
                edition_id, _ = prepare(url, args.post, count)
                start = time.perf_counter()
                children = [
                    start_send(url, edition_id, port, args.connections) for _ in range(number)
                ]
                summaries = [json.loads(child.communicate()[0]) for child in children]
                wall = time.perf_counter() - start
                assert sum(summary["sent"] for summary in summaries) == count, summaries
                rate = count / wall
                single = single if number > 1 else rate
                shares = " ".join(str(summary["sent"]) for summary in summaries)
                print(f"{number:>8}{count:>13,}{rate:>13,.0f}{rate / single:>7.0%}  {shares}")
                with psycopg.connect(args.postgres, autocommit=True) as connection:
                    connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        sink.terminate()
        sink.wait()


def rate_limit(args: argparse.Namespace) -> None:
    """Achieved msgs/s with ``smtp.max_per_second`` set, and the deviation from the limit.

    The send runs in this process (``send_edition``, as ``newsletter send`` calls it) so
    its progress callback can be read: it fires at every flush of the ledger (every 100
    results or 0.25 s). Two rates are printed: "paced" from the first to the last flush
    before the end, which is what the throttle controls (the ±2 % target), and
    "end to end", sent over the whole send loop (``SendSummary.seconds``), which also
    holds fixed costs the throttle does not pace: the first claim, connecting, the last
    flush and closing the connections.
    """
    port = free_port()
    sink = subprocess.Popen(["/usr/sbin/smtp-sink", "-u", "nobody", f"127.0.0.1:{port}", "1000"])
    time.sleep(0.5)
    backend: str | None = args.postgres if args.no_sqlite else None
    label = "postgresql" if backend else "sqlite"
    slug, size = message_size(args.post)
    print(f"post {slug}: {size:,} bytes per message, {args.connections} connections, {label}")
    print(f"{'limit':>7}{'subscribers':>13}{'paced':>9}{'deviation':>11}"
          f"{'end to end':>12}{'deviation':>11}{'seconds':>9}")  # fmt: skip
    failures = 0
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for limit in args.max_per_second:
                for count in args.subscribers:
                    url, schema = fresh_database(backend, Path(tmp), f"rate{limit:g}-{count}")
                    edition_id, _ = prepare(url, args.post, count)
                    settings = load_settings(
                        environ={
                            "NEWSLETTER_DATABASE__URL": url,
                            "NEWSLETTER_SECRET_KEY": SECRET,
                            "NEWSLETTER_NEWSLETTER__FROM_ADDRESS": SENDER,
                            "NEWSLETTER_SMTP__TRANSPORT": "smtp",
                            "NEWSLETTER_SMTP__HOST": "127.0.0.1",
                            "NEWSLETTER_SMTP__PORT": str(port),
                            "NEWSLETTER_SMTP__SECURITY": "none",
                            "NEWSLETTER_SMTP__CONNECTIONS": str(args.connections),
                            "NEWSLETTER_SMTP__MAX_PER_SECOND": str(limit),
                        }
                    )
                    marks: list[tuple[float, int]] = []
                    database = open_database(url)
                    summary = send_edition(
                        database,
                        settings,
                        edition_id,
                        progress=lambda p, marks=marks: marks.append((p.elapsed, p.sent)),
                    )
                    database.dispose()
                    assert summary.sent == count, summary
                    inner = [(t, n) for t, n in marks if 0 < n < count]
                    (t1, n1), (t2, n2) = inner[0], inner[-1]
                    paced = (n2 - n1) / (t2 - t1)
                    overall = summary.sent / summary.seconds
                    deviation = (paced - limit) / limit
                    verdict = "ok" if abs(deviation) <= 0.02 else "OUT OF RANGE"
                    failures += verdict != "ok"
                    print(f"{limit:>7g}{count:>13,}{paced:>9.1f}{deviation:>+10.2%} "
                          f"{overall:>11.1f}{(overall - limit) / limit:>+10.2%} "
                          f"{summary.seconds:>8.2f}  {verdict}")  # fmt: skip
                    if schema and backend:
                        with psycopg.connect(backend, autocommit=True) as connection:
                            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        sink.terminate()
        sink.wait()
    print("target: paced rate within ±2 % of the limit:", "met" if not failures else "missed")
    if failures:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
