"""Where posts come from by hand (``posts import``, the demo): files, directories, feed URLs.

Every parser of a post (:mod:`newsletter.content`'s Markdown and scraped pages, and
:mod:`newsletter.feeds.entries`) is pure (text in, ``Post`` out); this module reads the
bytes, picks the parser by file type and names each post's source by the path or URL it
came from, so an error message points at the file to fix. It sits in the feeds part
because a feed is the one source it fetches, and feed files the one it cannot read alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from newsletter.config import PostsSection, hide_password
from newsletter.content.markdown import parse_markdown
from newsletter.content.post import Post
from newsletter.content.scraped import parse_scraped
from newsletter.errors import ContentError, DraftPostError
from newsletter.feeds.entries import parse_feed
from newsletter.feeds.fetch import MAX_FEED_BYTES, fetch_feed

SCRAPED_SUFFIXES = frozenset({".txt"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
FEED_SUFFIXES = frozenset({".xml", ".rss", ".atom"})
_FEED_START_RE = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<(?:\?xml|rss|feed)\b")
_SNIFF_BYTES = 512


def load_posts(location: str, *, max_post_bytes: int = PostsSection.max_post_bytes) -> list[Post]:
    """The posts at ``location``: a file, a directory (its files, sorted) or an http(s) URL.

    ``max_post_bytes`` (``posts.max_post_bytes``) bounds every post whatever its source: a
    post file larger than that is refused before it is read whole, and so is a feed entry.
    A feed holds many posts, so a feed document may be up to :data:`MAX_FEED_BYTES`.

    Raises :class:`ContentError` for a location that does not exist, cannot be fetched or
    read, is too large, or holds a file type no parser reads. A directory's files of other
    types and its drafts are passed over; named one by one, they are refused.
    """
    if urlsplit(location).scheme.lower() in ("http", "https"):
        fetched = fetch_feed(location)
        return parse_feed(
            fetched.body or b"", source=hide_password(location), max_entry_bytes=max_post_bytes
        )
    path = Path(location)
    if path.is_dir():
        posts: list[Post] = []
        for child in sorted(path.iterdir()):
            if child.is_file() and not child.name.startswith("."):
                posts.extend(_load_file(child, max_post_bytes, in_directory=True))
        return posts
    if path.is_file():
        return _load_file(path, max_post_bytes, in_directory=False)
    raise ContentError("no such file or directory", source=location)


def _load_file(path: Path, max_post_bytes: int, *, in_directory: bool) -> list[Post]:
    """Sniff the file's type first, then read no more than its type's limit allows."""
    source = str(path)
    try:
        with path.open("rb") as stream:
            parser = _parser_for(path, stream.read(_SNIFF_BYTES))
            if parser is None:
                if in_directory:
                    return []
                raise ContentError(
                    "unsupported file type: expected .txt, .md, .markdown, .xml, .rss or .atom",
                    source=source,
                )
            stream.seek(0)
            is_feed = parser is _parse_feed_file
            data = read_limited(
                stream,
                MAX_FEED_BYTES if is_feed else max_post_bytes,
                "the feed" if is_feed else "the post",
                source,
                setting=None if is_feed else "posts.max_post_bytes",
            )
    except OSError as exc:
        raise ContentError(f"cannot read: {exc.strerror or exc}", source=source) from exc
    if is_feed:
        return parse_feed(data, source=source, max_entry_bytes=max_post_bytes)
    try:
        return parser(data, source)
    except DraftPostError:
        if in_directory:
            return []
        raise


def read_limited(
    stream: BinaryIO, limit: int, what: str, source: str, *, setting: str | None = None
) -> bytes:
    """At most ``limit`` bytes of ``stream``; more is refused with one line, unread.

    The one size check of every source, so memory stays bounded by the limit and not by
    what someone put in a file or behind a URL.
    """
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ContentError(
            f"{what} is larger than {limit:,} bytes"
            + (f" (the limit {setting}); refused unread" if setting else "; refused unread"),
            source=source,
        )
    return data


_Parser = Callable[[bytes, str], list[Post]]


def _parser_for(path: Path, data: bytes) -> _Parser | None:
    """Feeds are recognised by content as well, since feed files are often saved as .txt."""
    suffix = path.suffix.lower()
    if suffix in FEED_SUFFIXES or _FEED_START_RE.match(data[:_SNIFF_BYTES]):
        return _parse_feed_file
    if suffix in SCRAPED_SUFFIXES:
        return _parse_scraped_file
    if suffix in MARKDOWN_SUFFIXES:
        return _parse_markdown_file
    return None


def _parse_feed_file(data: bytes, source: str) -> list[Post]:
    return parse_feed(data, source=source)


def _parse_scraped_file(data: bytes, source: str) -> list[Post]:
    return [parse_scraped(_decode(data, source), source=source)]


def _parse_markdown_file(data: bytes, source: str) -> list[Post]:
    return [parse_markdown(_decode(data, source), source=source)]


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ContentError("not valid UTF-8 text", source=source, line=line) from exc
