"""RSS 2.0 and Atom feeds (the blog's WordPress feed) turned into posts.

``feedparser`` does the XML, encodings and date formats; each entry's HTML body
(WordPress ``content:encoded``, Atom ``content``) goes through
:mod:`newsletter.content.html_blocks`, so a post from the feed has the same blocks as the
same post scraped from the page or written in Markdown.

An entry that cannot be a post (no title, no text, a link that is not a web address, too
large) is set aside as a :class:`SkippedEntry` with its reason, never a reason to drop the
feed's other entries: the polls queue the good ones and report the rest, and a hand import
(:func:`parse_feed`) refuses the file, naming the entry.
"""

from __future__ import annotations

import calendar
import io
import re
import xml.sax
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import feedparser

from newsletter.content.assemble import ArticleBody
from newsletter.content.classify import clean_text
from newsletter.content.html_blocks import html_to_blocks, html_units
from newsletter.content.post import Post, is_web_url
from newsletter.content.slug import slugify
from newsletter.errors import ContentError

# WordPress excerpts end in "[…]" (cut off) and feed plugins append a "first appeared on" line.
_TRUNCATED_RE = re.compile(r"(?:\[(?:…|\.\.\.|&hellip;)\]|…|\.\.\.)$")
_FEED_FOOTER_RE = re.compile(r"appeared first on|verscheen eerst op", re.IGNORECASE)
_ENTITY_DECLARATION_RE = re.compile(rb"<!ENTITY", re.IGNORECASE)
_ROOT_RE = re.compile(rb"<(?:rss|feed|rdf:RDF)\b")


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry of a feed: the post, and the GUID that names it across polls (if any)."""

    post: Post
    guid: str | None


@dataclass(frozen=True, slots=True)
class SkippedEntry:
    """An entry that cannot be a post: where it is in the feed, what names it, and why."""

    number: int
    title: str | None
    guid: str | None
    link: str | None
    reason: str

    def describe(self) -> str:
        """``entry 2 ('Titel', https://blog/?p=102)``: its number, title and GUID (else link)."""
        names = [repr(self.title)] if self.title else []
        if self.guid or self.link:
            names.append(str(self.guid or self.link))
        return f"entry {self.number}" + (f" ({', '.join(names)})" if names else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "entry": self.number,
            "title": self.title,
            "guid": self.guid,
            "link": self.link,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class FeedEntries:
    """A feed's entries in feed order: the ones that are posts, and the ones set aside."""

    items: tuple[FeedItem, ...]
    skipped: tuple[SkippedEntry, ...]


def parse_feed(data: bytes | str, *, source: str, max_entry_bytes: int | None = None) -> list[Post]:
    """Every entry of the feed as a post, in feed order (a valid empty feed gives none).

    For a hand import, which writes all or nothing: an entry that cannot be a post is a
    :class:`ContentError` naming it (the polls skip such an entry instead).
    """
    entries = parse_feed_items(data, source=source, max_entry_bytes=max_entry_bytes)
    if entries.skipped:
        first = entries.skipped[0]
        raise ContentError(f"feed {first.describe()}: {first.reason}", source=source)
    return [item.post for item in entries.items]


def parse_feed_items(
    data: bytes | str, *, source: str, max_entry_bytes: int | None = None, strict: bool = False
) -> FeedEntries:
    """Every entry of the feed with its GUID, in feed order, and the entries set aside.

    ``strict`` (the polls and the doctor): a document that is not well-formed XML is
    refused rather than read as far as it goes. A feed cut off in transfer would otherwise
    "edit" a queued post down to half its text; the next poll gets the whole feed.

    Raises :class:`ContentError` only for a document that is not a readable feed. An entry
    without a title or without article text, with a link that is not an http(s) address,
    or whose HTML is larger than ``max_entry_bytes`` (``posts.max_post_bytes``: one limit
    per post, whatever its source) is a :class:`SkippedEntry`. A feed with small flaws
    (feedparser's "bozo" flag) is still read when its entries could be recovered.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if _ENTITY_DECLARATION_RE.search(raw[: _root_start(raw)]):
        # feedparser never expands them (so a "billion laughs" costs nothing), but it would
        # read such a document as a post with garbled text: refuse it instead.
        raise ContentError(
            "the feed declares its own XML entities; refused (no real feed does that)",
            source=source,
        )
    # A stream, never a str: feedparser would treat a str as a URL or a file name to open.
    parsed = feedparser.parse(io.BytesIO(raw))
    problem = parsed.get("bozo_exception")
    if strict and isinstance(problem, xml.sax.SAXException):
        line_of = getattr(problem, "getLineNumber", None)
        raise ContentError(
            f"not well-formed XML: {problem.getMessage()}",
            source=source,
            line=line_of() if callable(line_of) else None,
        )
    if not parsed.entries and (parsed.get("bozo") or not parsed.get("version")):
        problem = parsed.get("bozo_exception")
        line_of = getattr(problem, "getLineNumber", None)
        raise ContentError(
            f"not an RSS or Atom feed{f': {problem}' if problem else ''}",
            source=source,
            line=line_of() if callable(line_of) else None,
        )
    items: list[FeedItem] = []
    skipped: list[SkippedEntry] = []
    for number, entry in enumerate(parsed.entries, 1):
        guid = clean_text(entry.get("id") or "") or None
        post_or_reason = _entry_post(entry, source, max_entry_bytes)
        if isinstance(post_or_reason, Post):
            items.append(FeedItem(post_or_reason, guid))
        else:
            title = clean_text(entry.get("title", "")) or None
            link = clean_text(entry.get("link") or "") or None
            skipped.append(SkippedEntry(number, title, guid, link, post_or_reason))
    return FeedEntries(tuple(items), tuple(skipped))


def _root_start(raw: bytes) -> int:
    found = _ROOT_RE.search(raw)
    return found.start() if found else len(raw)


def _entry_post(entry: Any, source: str, max_bytes: int | None) -> Post | str:
    """The entry as a post, or the reason it cannot be one (a result, since the polls
    queue the feed's other entries all the same)."""
    title = clean_text(entry.get("title", ""))
    if not title:
        return "no title"
    content = _content_html(entry)
    size = len((content or entry.get("summary", "")).encode("utf-8"))
    if max_bytes is not None and size > max_bytes:
        return f"larger than {max_bytes:,} bytes (the limit posts.max_post_bytes)"
    body = html_to_blocks(content) if content else _summary_body(entry)
    if not body.blocks:
        return "no article text"
    link = entry.get("link") or None
    if link is not None and not is_web_url(link):
        return f"its link must be an http:// or https:// address, got {link!r}"
    tags = entry.get("tags") or []
    category = clean_text(tags[0].get("term") or "") if tags else ""
    return Post(
        slug=slugify(title),
        title=title,
        source=source,
        category=category or None,
        lead=_lead(entry, content) if content else None,
        questions=body.questions,
        blocks=body.blocks,
        faq=body.faq,
        faq_heading=body.faq_heading,
        related=body.related,
        published_at=_published(entry),
        url=link,
        summary_only=not content,
    )


def _content_html(entry: Any) -> str:
    for content in entry.get("content") or []:
        if content.get("value"):
            return str(content["value"])
    return ""


def _summary_body(entry: Any) -> ArticleBody:
    """The summary of a feed without full text, minus the feed footer and the "[…]" mark.

    The email says "Lees verder op de blog" after it, so the cut-off mark would be noise.
    """
    body = html_to_blocks(entry.get("summary", ""))
    blocks = [b for b in body.blocks if not _FEED_FOOTER_RE.search(b.text)]
    if blocks and blocks[-1].type == "paragraph":
        text = blocks[-1].text
        shortened = _TRUNCATED_RE.sub("", text).rstrip()
        if shortened != text:
            blocks[-1] = replace(blocks[-1], text=f"{shortened} …")
    return replace(body, blocks=tuple(blocks))


def _lead(entry: Any, content: str) -> str | None:
    """The entry's summary as the lead, unless it is a cut-off excerpt of the body, or the
    body's own beginning: feedparser gives an item without a description its full text as
    the summary, which would print the whole article twice."""
    lead = _text_of(entry.get("summary", ""))
    if not lead or _TRUNCATED_RE.search(lead) or _text_of(content).startswith(lead):
        return None
    return lead


def _text_of(html: str) -> str:
    texts = [u.text for u in html_units(html) if u.text]
    return clean_text(" ".join(t for t in texts if not _FEED_FOOTER_RE.search(t)))


def _published(entry: Any) -> datetime | None:
    moment = entry.get("published_parsed") or entry.get("updated_parsed")
    if moment is None:
        return None
    return datetime.fromtimestamp(calendar.timegm(moment), UTC)
