"""load_posts: files, directories and feed URLs (a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from newsletter.content.slug import slugify
from newsletter.errors import ContentError
from newsletter.feeds.sources import load_posts
from tests.content.helpers import FIXTURES_DIR, SEED_PATHS, SEEDS_DIR


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean; the assertions say what was served."""


@pytest.fixture
def fixture_server() -> Iterator[str]:
    """The fixtures directory served over HTTP; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(FIXTURES_DIR))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_the_examples_directory_gives_five_posts_in_file_order() -> None:
    posts = load_posts(str(SEEDS_DIR))
    assert len(posts) == 5
    assert [post.source for post in posts] == [str(path) for path in SEED_PATHS]
    assert all(post.slug == slugify(post.title) for post in posts)
    assert len({post.slug for post in posts}) == 5


def test_a_single_file_is_parsed_by_its_type() -> None:
    (scraped,) = load_posts(str(SEED_PATHS[0]))
    (markdown,) = load_posts(str(FIXTURES_DIR / "toml_post.md"))
    rss = load_posts(str(FIXTURES_DIR / "feed.rss"))
    assert scraped.short_title == "Innerlijke Kracht"
    assert markdown.slug == "loslaten-begint-bij-voelen"
    assert [post.source for post in rss] == [str(FIXTURES_DIR / "feed.rss")] * 2


def test_a_directory_mixes_formats_and_skips_other_files(tmp_path: Path) -> None:
    for name in ("toml_post.md", "feed.atom"):
        (tmp_path / name).write_bytes((FIXTURES_DIR / name).read_bytes())
    (tmp_path / "README.rst").write_text("Geen post.", encoding="utf-8")
    (tmp_path / ".verborgen.txt").write_text("Geen post.", encoding="utf-8")
    (tmp_path / "submap").mkdir()
    posts = load_posts(str(tmp_path))
    assert [post.source for post in posts] == [
        str(tmp_path / "feed.atom"),
        str(tmp_path / "toml_post.md"),
    ]


def test_a_feed_saved_under_another_name_is_recognised_by_content(tmp_path: Path) -> None:
    saved = tmp_path / "feed-opgeslagen.txt"
    saved.write_bytes((FIXTURES_DIR / "feed.rss").read_bytes())
    assert len(load_posts(str(saved))) == 2


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("post.pdf", b"%PDF-1.4", "unsupported file type"),
        ("kapot.txt", b"Titel\n\xff\xfe kapot\n", "not valid UTF-8"),
    ],
)
def test_unreadable_files_are_content_errors(
    tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ContentError, match=message) as raised:
        load_posts(str(path))
    assert raised.value.source == str(path)


def test_a_missing_location_is_a_content_error(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="no such file or directory"):
        load_posts(str(tmp_path / "bestaat-niet.txt"))


def test_a_feed_url_is_fetched_and_parsed(fixture_server: str) -> None:
    url = f"{fixture_server}/feed.rss"
    posts = load_posts(url)
    assert [post.slug for post in posts] == [
        "mededogen-met-jezelf-de-kracht-van-zachtheid",
        "een-korte-notitie-over-rust",
    ]
    assert all(post.source == url for post in posts)
    assert posts[0].blocks == load_posts(str(FIXTURES_DIR / "feed.rss"))[0].blocks


def test_a_missing_feed_url_is_a_content_error(fixture_server: str) -> None:
    url = f"{fixture_server}/bestaat-niet.rss"
    with pytest.raises(ContentError, match="HTTP 404") as raised:
        load_posts(url)
    assert raised.value.source == url


def test_an_unreachable_feed_url_is_a_content_error() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _QuietHandler)
    port = server.server_address[1]
    server.server_close()  # nothing listens on this port any more
    with pytest.raises(ContentError, match="cannot fetch the feed"):
        load_posts(f"http://127.0.0.1:{port}/feed.rss")
