"""Posts written as Markdown with TOML (``+++``) or YAML (``---``) front matter.

Only the handful of constructs a blog post uses are read (headings, lists, quotes,
paragraphs, emphasis and links reduced to their text), so no Markdown library is needed.
The lines become the same units the other formats produce, which means a
"## Drie vragen om even bij stil te staan" section or a "## Veelgestelde vragen" section
is read exactly like on the blog's pages.
"""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, date, datetime
from typing import Any

import yaml

from newsletter.content.assemble import Unit, UnitKind, assemble
from newsletter.content.classify import clean_text
from newsletter.content.post import Post, check_post_url
from newsletter.content.slug import slugify
from newsletter.errors import ContentError

_FENCES = {"+++": "TOML", "---": "YAML"}
_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_RULE_RE = re.compile(r"^(?:-{3,}|\*{3,}|_{3,})$")
_ITEM_RE = re.compile(r"^(?:[-*+]|\d{1,3}[.)])\s+")
_TOML_LINE_RE = re.compile(r"at line (\d+)")

_IMAGE_RE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK_RE = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_STRONG_RE = re.compile(r"(\*\*|__)(.+?)\1")
_EMPHASIS_RE = re.compile(r"(?<![\w*])([*_])(?!\s)(.+?)(?<!\s)\1(?![\w*])")
_CODE_RE = re.compile(r"`([^`]*)`")


def parse_markdown(text: str, *, source: str) -> Post:
    """Parse one Markdown post; front matter keys: title, date, slug, lead, category, url.

    Raises :class:`ContentError` naming ``source`` and the line for malformed front matter,
    a missing title or a body without article text.
    """
    lines = text.lstrip("\ufeff").splitlines()
    meta, body_start = _front_matter(lines, source)
    reader = _BodyReader()
    for line in lines[body_start:]:
        reader.feed(line)
    units = reader.finish()
    title = _text_value(meta, "title", lines, source) or reader.title
    if not title:
        raise ContentError(
            "no title: set `title` in the front matter or start the body with '# Title'",
            source=source,
            line=1,
        )
    url = _text_value(meta, "url", lines, source)
    check_post_url(url, source=source, line=_key_line(lines, "url"))
    body = assemble(units)
    if not body.blocks:
        raise ContentError(
            "no article text after the front matter", source=source, line=body_start + 1
        )
    return Post(
        slug=_text_value(meta, "slug", lines, source) or slugify(title),
        title=title,
        source=source,
        category=_text_value(meta, "category", lines, source),
        lead=_text_value(meta, "lead", lines, source),
        questions=body.questions,
        blocks=body.blocks,
        faq=body.faq,
        faq_heading=body.faq_heading,
        related=body.related,
        published_at=_date_value(meta, lines, source),
        url=url,
    )


def _front_matter(lines: list[str], source: str) -> tuple[dict[str, Any], int]:
    """The front matter as a dict, and the index of the first body line."""
    fence = lines[0].strip() if lines else ""
    if fence not in _FENCES:
        return {}, 0
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == fence), None)
    if end is None:
        raise ContentError(
            f"front matter opened with {fence} is never closed", source=source, line=1
        )
    raw = "\n".join(lines[1:end]) + "\n"
    language = _FENCES[fence]
    try:
        data = tomllib.loads(raw) if language == "TOML" else yaml.safe_load(raw)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE_RE.search(str(exc))
        line = 1 + int(found.group(1)) if found else end  # "at end of document"
        raise ContentError(f"bad TOML front matter: {exc}", source=source, line=line) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise ContentError(f"bad YAML front matter: {problem}", source=source, line=line) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ContentError(
            f"the {language} front matter must be a set of keys", source=source, line=2
        )
    return data, end + 1


def _key_line(lines: list[str], key: str) -> int:
    """The line a front matter key is set on, so an error about its value can point at it."""
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*[:=]")
    return next((n for n, line in enumerate(lines, start=1) if pattern.match(line)), 1)


def _text_value(meta: dict[str, Any], key: str, lines: list[str], source: str) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ContentError(
            f"front matter key {key!r} must be text, not {type(value).__name__}",
            source=source,
            line=_key_line(lines, key),
        )
    return clean_text(value) or None


def _date_value(meta: dict[str, Any], lines: list[str], source: str) -> datetime | None:
    """The ``date`` key as an aware datetime; a date or a naive time is taken as UTC."""
    value = meta.get("date")
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise ContentError(
                f"front matter key 'date' is not an ISO date: {value!r}",
                source=source,
                line=_key_line(lines, "date"),
            ) from exc
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise ContentError(
        f"front matter key 'date' must be a date, not {type(value).__name__}",
        source=source,
        line=_key_line(lines, "date"),
    )


def _inline(text: str) -> str:
    """Markdown inline syntax reduced to its text: emails get no links from the body."""
    text = _IMAGE_RE.sub("", text)
    text = _LINK_RE.sub(r"\1", text)
    text = _CODE_RE.sub(r"\1", text)
    text = _STRONG_RE.sub(r"\2", text)
    return clean_text(_EMPHASIS_RE.sub(r"\2", text))


class _BodyReader:
    """Line by line: paragraphs (joined lines), lists, quotes and headings become units."""

    def __init__(self) -> None:
        self.units: list[Unit] = []
        self.title: str | None = None
        self._paragraph: list[str] = []
        self._items: list[str] = []
        self._quote: list[str] = []
        self._after_blank = False

    def feed(self, line: str) -> None:
        stripped = line.strip()
        heading = _HEADING_RE.match(stripped)
        item = _ITEM_RE.match(stripped)
        if not stripped:
            self._flush_paragraph()
            self._flush_quote()
        elif heading:
            self._flush_all()
            self._add_heading(len(heading.group(1)), _inline(heading.group(2)))
        elif _RULE_RE.match(stripped):
            self._flush_all()
        elif stripped.startswith(">"):
            self._flush_paragraph()
            self._flush_list()
            self._quote.append(stripped.lstrip(">").strip())
        elif item:
            self._flush_paragraph()
            self._flush_quote()
            self._items.append(stripped[item.end() :])
        elif self._items and line[:1].isspace() and not self._after_blank:
            self._items[-1] = f"{self._items[-1]} {stripped}"
        else:
            self._flush_list()
            self._flush_quote()
            self._paragraph.append(stripped)
        self._after_blank = not stripped

    def finish(self) -> list[Unit]:
        self._flush_all()
        return self.units

    def _add_heading(self, level: int, text: str) -> None:
        if level == 1 and self.title is None and not self.units:
            self.title = text
            return
        kind: UnitKind = "heading" if level <= 2 else "subheading"
        self.units.append(Unit(kind, text))

    def _flush_all(self) -> None:
        self._flush_paragraph()
        self._flush_list()
        self._flush_quote()

    def _flush_paragraph(self) -> None:
        if self._paragraph:
            self.units.append(Unit("paragraph", _inline(" ".join(self._paragraph))))
            self._paragraph = []

    def _flush_list(self) -> None:
        if self._items:
            items = tuple(text for text in map(_inline, self._items) if text)
            self.units.append(Unit("list", items=items))
            self._items = []

    def _flush_quote(self) -> None:
        if self._quote:
            self.units.append(Unit("quote", _inline(" ".join(self._quote))))
            self._quote = []
