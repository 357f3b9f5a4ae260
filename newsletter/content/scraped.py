"""The blog's web pages, scraped to plain text, turned into a :class:`Post`.

The scrape keeps no markup, so structure has to be read from the text itself. Two layouts
occur: pages with a header block (short title, category twice, "13 min" twice, headline,
lead) and paragraphs separated by blank lines, and pages with one paragraph per line and no
header (title first, then the lead). Blank lines are therefore never relied on: roles come
from the shape of each line and its neighbours, and this module only cuts the text into
lines, reads the header and groups bullets; :mod:`.assemble` does the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from newsletter.content.assemble import ArticleBody, Unit, article_end, assemble
from newsletter.content.classify import (
    NUMBERED_RE,
    READING_TIME_RE,
    bullet_text,
    clean_text,
    indent_of,
    is_furniture,
    is_section_marker,
    is_testimonial,
    join_continuation,
    looks_like_heading,
    prompt_text,
    quote_text,
    split_read_more,
)
from newsletter.content.post import Post
from newsletter.content.slug import slugify
from newsletter.errors import ContentError

# The reading time ("13 min") of the header block sits within its first few lines.
_HEADER_SCAN_LINES = 5
_DIGITS_RE = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    text: str
    indent: int


@dataclass(frozen=True, slots=True)
class _Header:
    body_start: int
    title: str | None = None
    short_title: str | None = None
    category: str | None = None
    reading_minutes: int | None = None
    lead: str | None = None


def parse_scraped(text: str, *, source: str, slug: str | None = None) -> Post:
    """Parse one scraped page; ``slug`` defaults to one derived from the title.

    Raises :class:`ContentError` naming ``source`` and a line when the text holds no
    article: nothing, only a title, or only site furniture.
    """
    lines = _read_lines(text)
    if not lines:
        raise ContentError("no text at all", source=source, line=1)
    article = lines[: article_end([line.text for line in lines])]
    header = _read_header(article)
    body = assemble(_to_units(article[header.body_start :]))
    if not body.blocks:
        where = article[header.body_start] if header.body_start < len(article) else lines[-1]
        raise ContentError(
            "no article text found (only a title, site furniture or nothing)",
            source=source,
            line=where.number,
        )
    title = header.title or _first_heading(body) or header.short_title
    if title is None:
        raise ContentError("no title found", source=source, line=lines[0].number)
    return Post(
        slug=slug or slugify(title),
        title=title,
        source=source,
        short_title=header.short_title,
        category=header.category,
        reading_minutes=header.reading_minutes,
        lead=header.lead,
        questions=body.questions,
        blocks=body.blocks,
        faq=body.faq,
        faq_heading=body.faq_heading,
        related=body.related,
    )


def _read_lines(text: str) -> list[_Line]:
    """Non-blank lines, cleaned, with their 1-based number and indentation (CRLF-safe)."""
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        cleaned = clean_text(raw)
        if cleaned:
            lines.append(_Line(number, cleaned, indent_of(raw)))
    return lines


def _read_header(lines: list[_Line]) -> _Header:
    """Title, lead and, when the page has a header block, short title, category and minutes.

    Layout A starts "short title / category / category / 13 min / headline / 13 min / lead";
    layout B just "title / lead". A page that starts right at the questions block has no
    title line at all; the caller then falls back to the first heading.
    """
    reading = next(
        (
            i
            for i, line in enumerate(lines[:_HEADER_SCAN_LINES])
            if READING_TIME_RE.match(line.text)
        ),
        None,
    )
    short_title = category = None
    minutes = None
    index = 0
    if reading is not None:
        before = _texts_without_furniture(lines[:reading])
        short_title = before[0] if before else None
        category = before[1] if len(before) > 1 else None
        minutes = int(_DIGITS_RE.findall(lines[reading].text)[0])
        index = reading
    index = _skip_furniture(lines, index)
    if index >= len(lines) or not _can_be_title(lines[index].text):
        return _Header(index, None, short_title, category, minutes)
    title = lines[index].text
    index = _skip_furniture(lines, index + 1)
    lead = None
    if index < len(lines) and _can_be_lead(lines[index].text):
        lead = lines[index].text
        index += 1
    return _Header(index, title, short_title, category, minutes, lead)


def _texts_without_furniture(lines: list[_Line]) -> list[str]:
    texts = []
    index = _skip_furniture(lines, 0)
    while index < len(lines):
        texts.append(lines[index].text)
        index = _skip_furniture(lines, index + 1)
    return texts


def _skip_furniture(lines: list[_Line], index: int) -> int:
    while index < len(lines):
        if is_furniture(lines[index].text):
            index += 1
        elif index + 1 < len(lines) and is_testimonial(lines[index].text, lines[index + 1].text):
            index += 2
        else:
            break
    return index


def _can_be_title(text: str) -> bool:
    return not (is_section_marker(text) or bullet_text(text) or prompt_text(text))


def _can_be_lead(text: str) -> bool:
    """A lead is prose; a heading-shaped line under the title opens the first section."""
    return _can_be_title(text) and not (
        quote_text(text) or split_read_more(text) or looks_like_heading(text)
    )


def _to_units(lines: list[_Line]) -> list[Unit]:
    """Group bullet lines into lists; every other line stays a unit of its own."""
    units: list[Unit] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if bullet_text(line.text) is None:
            units.append(Unit("line", line.text))
            index += 1
        elif _is_numbered_heading(lines, index):
            units.append(Unit("subheading", line.text))
            index += 1
        else:
            items, index = _read_list(lines, index)
            units.append(Unit("list", items=tuple(items)))
    return units


def _is_numbered_heading(lines: list[_Line], index: int) -> bool:
    """A numbered line followed by prose ("1. Stilstaan bij jezelf") is a sub-heading."""
    text = lines[index].text
    following = lines[index + 1].text if index + 1 < len(lines) else None
    return bool(
        NUMBERED_RE.match(text)
        and looks_like_heading(text)
        and following is not None
        and bullet_text(following) is None
    )


def _read_list(lines: list[_Line], index: int) -> tuple[list[str], int]:
    """Consecutive items of one kind (bullets or numbers); deeper-indented lines continue one.

    A continuation is the description under a bolded item title ("• Innerlijke rust" /
    "    Je hoeft minder te vechten …"), joined by :func:`.classify.join_continuation`.
    """
    numbered = bool(NUMBERED_RE.match(lines[index].text))
    items: list[str] = []
    while index < len(lines):
        line = lines[index]
        item = bullet_text(line.text)
        if item is None or bool(NUMBERED_RE.match(line.text)) != numbered:
            break
        index += 1
        while (
            index < len(lines)
            and lines[index].indent > line.indent
            and bullet_text(lines[index].text) is None
        ):
            item = join_continuation(item, lines[index].text)
            index += 1
        items.append(item)
    return items, index


def _first_heading(body: ArticleBody) -> str | None:
    return next((b.text for b in body.blocks if b.type in ("heading", "subheading")), None)
