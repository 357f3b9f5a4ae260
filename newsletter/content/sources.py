"""Where posts come from: files, directories and feed URLs. The only I/O of the package part.

Every parser in :mod:`newsletter.content` is pure (text in, ``Post`` out); this module
reads the bytes, picks the parser by file type and names each post's source by the
path or URL it came from, so an error message points at the file to fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from newsletter.content.feed import parse_feed
from newsletter.content.fetch import fetch_feed
from newsletter.content.markdown import parse_markdown
from newsletter.content.post import Post
from newsletter.content.scraped import parse_scraped
from newsletter.errors import ContentError

SCRAPED_SUFFIXES = frozenset({".txt"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
FEED_SUFFIXES = frozenset({".xml", ".rss", ".atom"})
_FEED_START_RE = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<(?:\?xml|rss|feed)\b")
_SNIFF_BYTES = 512


def load_posts(location: str) -> list[Post]:
    """The posts at ``location``: a file, a directory (its files, sorted) or an http(s) URL.

    Raises :class:`ContentError` for a location that does not exist, cannot be fetched or
    read, or holds a file type no parser reads.
    """
    if urlsplit(location).scheme.lower() in ("http", "https"):
        fetched = fetch_feed(location)
        return parse_feed(fetched.body or b"", source=location)
    path = Path(location)
    if path.is_dir():
        posts: list[Post] = []
        for child in sorted(path.iterdir()):
            if child.is_file() and not child.name.startswith("."):
                data = _read(child)
                parser = _parser_for(child, data)
                if parser is not None:
                    posts.extend(parser(data, str(child)))
        return posts
    if path.is_file():
        data = _read(path)
        parser = _parser_for(path, data)
        if parser is None:
            raise ContentError(
                "unsupported file type: expected .txt, .md, .markdown, .xml, .rss or .atom",
                source=location,
            )
        return parser(data, location)
    raise ContentError("no such file or directory", source=location)


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


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ContentError(f"cannot read: {exc.strerror or exc}", source=str(path)) from exc


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ContentError("not valid UTF-8 text", source=source, line=line) from exc
