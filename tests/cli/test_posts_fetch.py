"""``newsletter posts fetch`` and the feed keys of the config, through the installed command.

The console script runs as a user would run it, configured by environment variables
(``NEWSLETTER_POSTS__FEEDS`` as a JSON array), against the loopback feed server. A
compression bomb is fetched by a child whose peak memory is read from ``wait4``.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import resource
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsletter.config import load_settings
from newsletter.errors import ConfigError
from tests.support.cli import NewsletterCli
from tests.support.feeds import (
    FEED_PASSWORD,
    FeedServer,
    Item,
    Route,
    gzip_bomb,
    post_html,
    with_password,
    wordpress_rss,
)
from tests.support.system import NEWSLETTER_SCRIPT, free_port


def _env(database_url: str, feeds: list[str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    return env | {
        "NEWSLETTER_DATABASE__URL": database_url,
        "NEWSLETTER_POSTS__FEEDS": json.dumps(feeds),
        "NEWSLETTER_POSTS__FETCH_TIMEOUT_SECONDS": "2",
    }


def _newsletter(
    tmp_path: Path, database_url: str, feeds: list[str], *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NEWSLETTER_SCRIPT), *args],
        env=_env(database_url, feeds),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


ITEM = Item(
    title="Rust in je hoofd",
    link="https://www.gerritvanderheide.com/rust-in-je-hoofd/",
    guid="https://www.gerritvanderheide.com/?p=42",
    published=datetime(2026, 11, 28, 8, 0, tzinfo=UTC),
    html=post_html("Rust begint klein."),
)


def test_fetch_prints_per_feed_and_exits_1_naming_each_failed_feed(
    tmp_path: Path, database_url: str, feed_server: FeedServer
) -> None:
    feed_server.routes["/feed/"] = Route(wordpress_rss([ITEM]), etag='"1"')
    feed_server.routes["/kapot/"] = Route(b"<rss><channel><item><title>half", status=200)
    good, missing, broken = (feed_server.url(p) for p in ("/feed/", "/weg/", "/kapot/"))

    first = _newsletter(tmp_path, database_url, [good, missing, broken], "posts", "fetch")
    assert first.returncode == 1
    assert first.stdout == f"{good}: 1 added, 0 updated, 0 unchanged\n"
    lines = first.stderr.splitlines()
    assert len(lines) == 2, first.stderr
    assert lines[0].startswith(f"error: feed {missing}: cannot fetch the feed: HTTP 404")
    assert lines[1].startswith(f"error: feed {broken}") and "not well-formed XML" in lines[1]
    assert "Traceback" not in first.stderr

    again = _newsletter(tmp_path, database_url, [good], "posts", "fetch", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == [
        {
            "url": good,
            "added": 0,
            "updated": 0,
            "unchanged": 0,
            "not_modified": True,
            "error": None,
            "skipped": [],
        }
    ]
    listed = _newsletter(tmp_path, database_url, [good], "posts", "next", "--json")
    assert json.loads(listed.stdout)["slug"] == "rust-in-je-hoofd"


# Only so that a fetch which does not stop (the unfixed one took 2.2 GB) cannot take the
# machine's memory: a plain fetch needs under 200 MiB of address space. The test judges
# the peak RSS figure, not this.
ADDRESS_SPACE_GUARD = 1024 * 1024 * 1024


def _fetch_measured(tmp_path: Path, database_url: str, url: str) -> tuple[int, str, int]:
    """``posts fetch`` of one feed in a child: its exit status, stderr and peak RSS in MiB.

    The peak is ``ru_maxrss`` from ``wait4``: this child's own, not that of any other.
    """

    def guard() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_GUARD, ADDRESS_SPACE_GUARD))

    output = tmp_path / "fetch.out"
    with output.open("w") as stream:
        child = subprocess.Popen(
            [str(NEWSLETTER_SCRIPT), "posts", "fetch"],
            env=_env(database_url, [url]),
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=stream,
            preexec_fn=guard,
        )
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    return child.returncode, output.read_text(), usage.ru_maxrss // 1024


@pytest.mark.parametrize(
    ("encoding", "message"),
    [
        ("gzip", "the feed is larger than 20971520 bytes"),
        ("gzip, gzip", "Content-Encoding 'gzip, gzip' is refused"),
    ],
)
def test_a_compression_bomb_stops_at_the_limit_in_little_memory(
    tmp_path: Path, feed_server: FeedServer, encoding: str, message: str
) -> None:
    """1 GiB of zeros in 1 MB (gzip) or 2.5 KB (gzip of gzip): one line, and the fetch
    takes less than 100 MiB more than a fetch of a small feed (the unfixed code unpacked
    a whole network chunk at a time, and gzip of gzip in full). The fetch happens before
    any database work: one backend is enough."""
    database_url = f"sqlite:///{tmp_path}/newsletter.db"
    body = gzip_bomb(1024)
    if encoding == "gzip, gzip":
        body = gzip.compress(body)
    feed_server.routes["/feed/"] = Route(wordpress_rss([ITEM]))
    feed_server.routes["/bom/"] = Route(body, headers={"Content-Encoding": encoding})
    status, _, plain_peak = _fetch_measured(tmp_path, database_url, feed_server.url("/feed/"))
    assert status == 0

    status, stderr, bomb_peak = _fetch_measured(tmp_path, database_url, feed_server.url("/bom/"))

    assert status == 1
    assert stderr.startswith(f"error: feed {feed_server.url('/bom/')}: ")
    assert stderr.count("\n") == 1 and message in stderr
    assert bomb_peak - plain_peak < 100, (plain_peak, bomb_peak)


def test_a_feed_password_is_hidden_in_the_error_lines_json_and_verbose_log(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """A private feed is read with its password (sent as Basic auth), which is printed
    nowhere: not in the ``error:`` lines, ``--json``, ``-v``'s log or ``status``."""
    database_url = f"sqlite:///{tmp_path}/newsletter.db"
    feed_server.routes["/feed/"] = Route(wordpress_rss([ITEM]))
    feed_server.routes["/storing/"] = Route(b"oeps", status=500)
    good, failing = (with_password(feed_server.url(p)) for p in ("/feed/", "/storing/"))
    unreachable = with_password(f"http://127.0.0.1:{free_port()}/feed/")
    feeds = [good, failing, unreachable]
    shown = [url.replace(FEED_PASSWORD, "***") for url in feeds]

    verbose = _newsletter(tmp_path, database_url, feeds, "-v", "posts", "fetch")
    as_json = _newsletter(tmp_path, database_url, feeds, "posts", "fetch", "--json")
    status = _newsletter(tmp_path, database_url, feeds, "status", "--json")

    for result in (verbose, as_json, status):
        assert FEED_PASSWORD not in result.stdout + result.stderr
    assert (
        verbose.returncode == 1
        and verbose.stdout == f"{shown[0]}: 1 added, 0 updated, 0 unchanged\n"
    )
    errors = [line for line in verbose.stderr.splitlines() if line.startswith("error:")]
    assert errors[0].startswith(f"error: feed {shown[1]}: cannot fetch the feed: HTTP 500")
    assert errors[1].startswith(f"error: feed {shown[2]}: cannot fetch the feed: ")
    assert "INFO HTTP Request: GET http://127.0.0.1" in verbose.stderr
    reports = json.loads(as_json.stdout)
    assert [report["url"] for report in reports] == shown
    assert reports[1]["error"].startswith(f"{shown[1]}: ")
    assert [feed["url"] for feed in json.loads(status.stdout)["feeds"]] == shown
    basic = "Basic " + base64.b64encode(f"gerrit:{FEED_PASSWORD}".encode()).decode()
    assert {r.headers.get("Authorization") for r in feed_server.requests_to("/feed/")} == {basic}


def test_posts_parse_and_import_of_a_feed_url_hide_its_password(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.routes["/feed/"] = Route(wordpress_rss([ITEM]))
    feed_server.routes["/storing/"] = Route(b"oeps", status=500)
    good, failing = (with_password(feed_server.url(p)) for p in ("/feed/", "/storing/"))
    cli = NewsletterCli(f"sqlite:///{tmp_path}/newsletter.db", tmp_path)

    parsed = json.loads(cli.ok("posts", "parse", good, "--json"))
    error = cli.fails("posts", "import", failing)

    assert parsed["source"] == good.replace(FEED_PASSWORD, "***")
    assert error.startswith(f"error: {failing.replace(FEED_PASSWORD, '***')}: cannot fetch")


def test_fetch_without_feeds_says_how_to_configure_them(tmp_path: Path, database_url: str) -> None:
    result = _newsletter(tmp_path, database_url, [], "posts", "fetch")
    assert result.returncode == 1
    assert result.stderr.startswith("error: no feeds configured: set [posts] feeds")


def test_feeds_come_from_toml_or_a_json_array_in_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "newsletter.toml"
    config.write_text(
        '[posts]\nfeeds = ["https://blog.example.nl/feed/"]\npoll_minutes = 30\n',
        encoding="utf-8",
    )
    settings = load_settings(config, environ={})
    assert settings.posts.feeds == ("https://blog.example.nl/feed/",)
    assert settings.posts.poll_minutes == 30
    from_env = load_settings(
        config,
        environ={"NEWSLETTER_POSTS__FEEDS": '["https://a.example/feed", "https://b.example/rss"]'},
    )
    assert from_env.posts.feeds == ("https://a.example/feed", "https://b.example/rss")
    one = load_settings(config, environ={"NEWSLETTER_POSTS__FEEDS": "https://c.example/feed/"})
    assert one.posts.feeds == ("https://c.example/feed/",)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"NEWSLETTER_POSTS__FEEDS": '["https://a.example/feed", '},
            "posts.feeds must be a list of strings",
        ),
        (
            {"NEWSLETTER_POSTS__FEEDS": '["ftp://blog.example.nl/feed"]'},
            "posts.feeds must hold http:// or https:// URLs, got 'ftp://blog.example.nl/feed'",
        ),
        (
            {"NEWSLETTER_POSTS__FEEDS": f'["ftp://gerrit:{FEED_PASSWORD}@blog.example.nl/"]'},
            "posts.feeds must hold http:// or https:// URLs, got 'ftp://gerrit:***@blog.example.nl/'",
        ),
        ({"NEWSLETTER_POSTS__POLL_MINUTES": "0"}, "posts.poll_minutes must be at least 1"),
    ],
)
def test_a_wrong_feed_setting_is_one_line_naming_key_and_source(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ=environ)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_toml_feed_list_of_numbers_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "newsletter.toml"
    config.write_text("[posts]\nfeeds = [1, 2]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"newsletter.toml: posts.feeds must be a list of"):
        load_settings(config, environ={})
