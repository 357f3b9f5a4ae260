"""What a feed poll costs: the first poll of a large feed, a 304, and an unchanged re-read.

    .venv/bin/python bench/feeds.py [--items 200] [--postgres URL]

A WordPress-style RSS 2.0 feed of ``--items`` posts (the five seed posts' text, each line a
paragraph, repeated under new titles) is served by the standard library's HTTP server on
127.0.0.1, which honours ``If-Modified-Since``. ``newsletter.feeds.poll.poll_feeds`` polls it
into a fresh SQLite database (and PostgreSQL when given): the first poll adds every item,
the second gets a 304, the third reads the whole feed again after the file's date changed
(the server answers 200) and finds nothing to change.
"""

from __future__ import annotations

import argparse
import functools
import html
import os
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg

from newsletter.config import PostsSection, Settings
from newsletter.db.database import open_database
from newsletter.feeds.poll import poll_feeds

SEEDS_DIR = Path(__file__).resolve().parents[1] / "examples" / "posts"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def build_feed(items: int) -> bytes:
    bodies = []
    for path in sorted(SEEDS_DIR.glob("*.txt")):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        bodies.append("".join(f"<p>{html.escape(line)}</p>" for line in lines if line))
    start = datetime(2020, 1, 6, 7, 0, tzinfo=UTC)
    entries = []
    for number in range(items):
        published = format_datetime(start + timedelta(days=7 * number))
        entries.append(
            f"<item><title>Bericht {number + 1} over loslaten</title>"
            f"<link>https://blog.example.nl/bericht-{number + 1}/</link>"
            f"<pubDate>{published}</pubDate><category><![CDATA[Loslaten]]></category>"
            f'<guid isPermaLink="false">https://blog.example.nl/?p={number + 1}</guid>'
            f"<content:encoded><![CDATA[{bodies[number % len(bodies)]}]]></content:encoded>"
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>Bench</title>{''.join(entries)}</channel></rss>"
    ).encode()


def measure(database_url: str, url: str, feed_file: Path) -> list[tuple[str, float, str]]:
    database = open_database(database_url)
    settings = Settings(posts=PostsSection(feeds=(url,)))
    rows = []
    try:
        for label in ("first poll", "304 poll", "re-read, unchanged"):
            if label.startswith("re-read"):
                later = time.time() + 60
                os.utime(feed_file, (later, later))
            began = time.perf_counter()
            [report] = poll_feeds(database, settings, datetime.now(UTC))
            seconds = time.perf_counter() - began
            outcome = (
                report.error
                or ("not modified" if report.not_modified else "")
                or f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged"
            )
            rows.append((label, seconds, outcome))
    finally:
        database.dispose()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--postgres", help="also measure on this PostgreSQL (a fresh schema)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        feed_file = Path(folder) / "feed.xml"
        feed_file.write_bytes(build_feed(args.items))
        handler = functools.partial(_Quiet, directory=folder)
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
        print(f"feed: {args.items} items, {feed_file.stat().st_size:,} bytes")
        targets = [("sqlite", f"sqlite:///{folder}/bench.db")]
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        if args.postgres:
            with psycopg.connect(args.postgres, autocommit=True) as connection:
                connection.execute(f'CREATE SCHEMA "{schema}"')
            targets.append(("postgresql", f"{args.postgres}?options=-csearch_path%3D{schema}"))
        try:
            print(f"{'database':<11} {'poll':<20} {'seconds':>8}  outcome")
            for name, database_url in targets:
                for label, seconds, outcome in measure(database_url, url, feed_file):
                    print(f"{name:<11} {label:<20} {seconds:>8.3f}  {outcome}")
        finally:
            server.shutdown()
            if args.postgres:
                with psycopg.connect(args.postgres, autocommit=True) as connection:
                    connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
