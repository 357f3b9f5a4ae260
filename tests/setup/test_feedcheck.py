"""The ``feeds`` check against a real HTTP server on loopback (tests/support/feeds.py): it
fetches and parses each feed the way the daemon's polls do."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.setup import doctor
from tests.support.feeds import (
    FEED_PASSWORD,
    FeedServer,
    Item,
    Route,
    post_html,
    with_password,
    wordpress_rss,
)

from .conftest import closed_port, message, statuses, write_config

ITEM = Item(
    title="Waarom loslaten zo moeilijk voelt",
    link="https://www.gerritvanderheide.com/loslaten/",
    guid="https://www.gerritvanderheide.com/?p=101",
    published=datetime(2026, 11, 30, 7, 0, tzinfo=UTC),
    html=post_html("Loslaten is geen opgeven."),
)


def config_with(tmp_path: Path, *feeds: str) -> Path:
    return write_config(
        tmp_path / "config.toml",
        {
            "newsletter": {"from_address": "nieuwsbrief@gerritvanderheide.nl"},
            "posts": {"feeds": list(feeds), "fetch_timeout_seconds": 5},
        },
    )


def run_feeds(config: Path) -> list[doctor.Result]:
    return doctor.run(config, {}, only=["feeds"])


def test_a_good_feed_is_ok(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.routes["/feed/"] = Route(wordpress_rss([ITEM]))
    url = feed_server.url("/feed/")
    results = run_feeds(config_with(tmp_path, url))
    assert statuses(results) == {"config": "ok", "feeds": "ok"}
    assert message(results, "feeds") == f"{url}: 1 post"
    assert [request.path for request in feed_server.requests] == ["/feed/"]


def test_a_missing_feed_fails_with_the_http_status(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.url("/weg/")
    results = run_feeds(config_with(tmp_path, url))
    assert statuses(results) == {"config": "ok", "feeds": "fail"}
    assert message(results, "feeds") == (
        f"cannot read the feed {url} (cannot fetch the feed: HTTP 404 Not Found): check the "
        "address in posts.feeds (open it in a browser) or remove it"
    )


def test_a_malformed_feed_fails_with_the_parse_error(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.routes["/kapot/"] = Route(wordpress_rss([ITEM])[:-40])
    feed_server.routes["/html/"] = Route(
        b"<html><body>Welkom</body></html>", content_type="text/html"
    )
    good, cut, html = (feed_server.url(path) for path in ("/feed/", "/kapot/", "/html/"))
    feed_server.routes["/feed/"] = Route(wordpress_rss([ITEM]))
    results = run_feeds(config_with(tmp_path, good, cut, html))
    assert statuses(results)["feeds"] == "fail"
    found = message(results, "feeds")
    assert "\n" not in found
    assert good not in found  # only the broken ones are named
    assert f"{cut} (" in found and "not well-formed XML" in found
    assert f"{html} (" in found and "not an RSS or Atom feed" in found


def test_without_feeds_the_check_is_left_out_and_json_names_it_feeds(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    assert "feeds" not in statuses(run_feeds(config_with(tmp_path)))
    feed_server.routes["/feed/"] = Route(wordpress_rss([ITEM]))
    config = config_with(tmp_path, feed_server.url("/feed/"))
    result = CliRunner().invoke(
        cli, ["--config", str(config), "doctor", "--json", "--check", "feeds"]
    )
    assert result.exit_code == 0, result.output
    assert [entry["check"] for entry in json.loads(result.output)] == ["config", "feeds"]


def test_an_entry_the_polls_would_skip_is_a_warning_naming_it(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    untitled = replace(ITEM, title="", guid="https://www.gerritvanderheide.com/?p=102")
    feed_server.routes["/feed/"] = Route(wordpress_rss([ITEM, untitled]))
    url = feed_server.url("/feed/")
    results = run_feeds(config_with(tmp_path, url))
    assert statuses(results)["feeds"] == "warn"
    assert message(results, "feeds") == (
        f"{url}: 1 post; the polls skip entry 2 (https://www.gerritvanderheide.com/?p=102) "
        f"of {url} (no title): fix that post on the blog "
        "(or raise posts.max_post_bytes for one that is too large)"
    )


def test_a_feed_password_is_hidden_in_the_finding(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.routes["/feed/"] = Route(wordpress_rss([ITEM]))
    feed_server.routes["/storing/"] = Route(b"oeps", status=500)
    good, failing = (with_password(feed_server.url(p)) for p in ("/feed/", "/storing/"))
    unreachable = with_password(f"http://127.0.0.1:{closed_port()}/feed/")
    good_shown, failing_shown, unreachable_shown = (
        url.replace(FEED_PASSWORD, "***") for url in (good, failing, unreachable)
    )

    config = config_with(tmp_path, good, failing, unreachable)
    result = CliRunner().invoke(cli, ["--config", str(config), "doctor", "--check", "feeds"])
    assert FEED_PASSWORD not in result.output
    found = message(run_feeds(config), "feeds")
    assert found.startswith(
        f"cannot read the feed {failing_shown} (cannot fetch the feed: HTTP 500 "
        f"Internal Server Error), {unreachable_shown} (cannot fetch the feed: "
    )
    ok = message(run_feeds(config_with(tmp_path, good)), "feeds")
    assert ok == f"{good_shown}: 1 post"
