"""Posts written as Markdown with TOML (``+++``) or YAML (``---``) front matter.

The body is parsed by markdown-it-py (CommonMark, plus tables and strikethrough so that
their pipes and tildes never reach a reader), and its syntax tree becomes the same units
the other formats produce, which means a "## Drie vragen om even bij stil te staan"
section or a "## Veelgestelde vragen" section is read exactly like on the blog's pages.
Where Markdown leaves a choice, the post is read as its HTML would be read in a feed, so
one post gives the same blocks whichever way it arrives:

- Inline markup is rendered to HTML and read back by the feed's HTML parser: links,
  emphasis and code keep their words (an email takes no links from the body), images
  vanish, inline tags are dropped and script or style contents with them, entities and
  backslash escapes give their character, and any line break is a space, so "Groet,"
  and "Gerrit" on two lines are one sign-off.
- HTML blocks go through :func:`.html_blocks.html_units`: a ``<blockquote>``, ``<h2>`` or
  ``<ul>`` gives the units it gives in a feed. A blank line inside a raw element ends
  CommonMark's HTML block; the Markdown between its halves is read as Markdown, so its
  words survive though the element's role (a quote, say) is lost.
- Nested lists are flattened, each nested item following its parent, as the feed's HTML
  and the scraped pages' bullets are; the paragraphs of one item join like a scraped
  item's continuation lines. Lists that follow each other directly are one list: in
  CommonMark a change of bullet character starts a new list, which a writer rarely means.
- Code blocks stay, as paragraphs: CommonMark makes a paragraph indented by four spaces a
  code block, and a reader must not lose a paragraph its author indented by accident (a
  feed's ``<pre>`` is a paragraph too). Table cells become paragraphs, as a feed's
  ``<td>``; a thematic break carries no words.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from functools import reduce
from itertools import chain, groupby
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from newsletter.content.assemble import Unit, assemble
from newsletter.content.classify import clean_text, join_continuation
from newsletter.content.html_blocks import html_text, html_units
from newsletter.content.post import Post, check_post_url
from newsletter.content.slug import slugify
from newsletter.errors import ContentError, DraftPostError

_FENCES = {"+++": "TOML", "---": "YAML"}
_TOML_LINE_RE = re.compile(r"at line (\d+)")

_MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])
_LISTS = frozenset({"bullet_list", "ordered_list"})
_CODE = frozenset({"fence", "code_block"})


def parse_markdown(text: str, *, source: str) -> Post:
    """Parse one Markdown post; front matter keys: title, date, slug, lead, category, url,
    and draft / published (a draft raises :class:`DraftPostError`).

    Raises :class:`ContentError` naming ``source`` and the line for malformed front matter,
    a missing title or a body without article text.
    """
    lines = text.lstrip("\ufeff").splitlines()
    meta, body_start = _front_matter(lines, source)
    _refuse_a_draft(meta, lines, source)
    units, first_title = _body_units("\n".join(lines[body_start:]))
    title = _text_value(meta, "title", lines, source) or first_title
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


def _refuse_a_draft(meta: dict[str, Any], lines: list[str], source: str) -> None:
    """Hugo's ``draft = true`` and Jekyll's ``published = false`` mean "not yet": a draft
    must never reach a subscriber because it happened to sit in the posts folder."""
    for key, ready in (("draft", False), ("published", True)):
        value = meta.get(key)
        if value is None:
            continue
        if not isinstance(value, bool):
            raise ContentError(
                f"front matter key {key!r} must be true or false, not {value!r}",
                source=source,
                line=_key_line(lines, key),
            )
        if value is not ready:
            raise DraftPostError(
                f"a draft ({key} = {str(value).lower()}): not imported until it is ready",
                source=source,
                line=_key_line(lines, key),
            )


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


def _body_units(body: str) -> tuple[list[Unit], str | None]:
    """The body's units, and the text of a ``# Title`` that opens it.

    That first heading is the post's title, never a section of it, even when the front
    matter names the title too (then the front matter wins).
    """
    units: list[Unit] = []
    title: str | None = None
    root = SyntaxTreeNode(_MARKDOWN.parse(body))
    for is_list, group in groupby(root.children, key=_is_list):
        if is_list:
            if items := tuple(chain.from_iterable(map(_items, group))):
                units.append(Unit("list", items=items))
            continue
        for node in group:
            if node.type == "heading":
                text = " ".join(_texts(node))
                if node.tag == "h1" and title is None and not units:
                    title = text
                else:
                    units.append(
                        Unit("heading" if node.tag in ("h1", "h2") else "subheading", text)
                    )
            elif node.type == "blockquote":
                if texts := list(_texts(node)):
                    units.append(Unit("quote", " ".join(texts)))
            elif node.type == "html_block":
                units.extend(html_units(node.content))
            else:  # paragraphs, code, tables (a paragraph per cell); a thematic break
                units.extend(Unit("paragraph", text) for text in _texts(node))
    return units, title


def _is_list(node: SyntaxTreeNode) -> bool:
    return node.type in _LISTS


def _items(node: SyntaxTreeNode) -> Iterator[str]:
    """A list's items, flat: an email list has one level, and a nested item read right
    after its parent still says what it said under it."""
    for item in node.children:
        for is_list, group in groupby(item.children, key=_is_list):
            if is_list:
                yield from chain.from_iterable(map(_items, group))
            elif texts := [text for child in group for text in _texts(child)]:
                yield reduce(join_continuation, texts)


def _texts(node: SyntaxTreeNode) -> Iterator[str]:
    """The texts of a block and of every block inside it, in reading order: inside a list
    item or a quote any block (a heading, code, raw HTML) gives words, never structure."""
    if node.type == "inline":
        html = _MARKDOWN.renderer.render(node.to_tokens(), _MARKDOWN.options, {})
        text = html_text(html)
    elif node.type == "html_block":
        text = html_text(node.content)
    elif node.type in _CODE:
        text = clean_text(node.content)
    else:
        for child in node.children:
            yield from _texts(child)
        return
    if text:
        yield text
