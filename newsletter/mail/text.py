"""The plain-text part: helpers the ``newsletter.txt`` template uses, and its final tidy-up.

The text part is written from the post's blocks by its own template rather than by
stripping the HTML, so it reads like a letter: paragraphs wrapped at 72 columns, headings
underlined, links as numbered footnotes. Spam filters compare the two parts, and readers
with a text-only client get the same content in the same order.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

from jinja2 import Environment, Template

TEXT_WIDTH = 72
# Only ASCII whitespace separates words: a no-break space in the post must stay unbreakable.
_ASCII_WHITESPACE = re.compile(r"[ \t\r\n\f\v]+")


class Footnotes:
    """Numbers links in order of first mention; a repeated URL keeps its number."""

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}

    def ref(self, url: str) -> str:
        number = self._numbers.setdefault(url, len(self._numbers) + 1)
        return f"[{number}]"

    @property
    def urls(self) -> list[str]:
        return list(self._numbers)


def wrap(text: str, indent: str = "", first: str | None = None) -> str:
    """Fill ``text`` to 72 columns; ``first`` prefixes the first line (a bullet, a number).

    Words and URLs are never split, so a long URL stays clickable on a line of its own.
    """
    return textwrap.fill(
        _ASCII_WHITESPACE.sub(" ", text).strip(" "),
        width=TEXT_WIDTH,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def underline(text: str, char: str) -> str:
    """A Setext-style heading: the wrapped text with a rule as wide as its longest line."""
    wrapped = wrap(text)
    width = max((len(line) for line in wrapped.splitlines()), default=0)
    return f"{wrapped}\n{char * width}"


def one_line(text: str) -> str:
    """All whitespace, line breaks included, as single spaces: for a subject or a teaser."""
    return " ".join(text.split())


def shorten(text: str, max_chars: int) -> str:
    """``text`` on one line, cut at a word with "…" when it is longer than ``max_chars``."""
    text = one_line(text)
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:—–- ") + "…"


def install_text_helpers(environment: Environment) -> None:
    environment.filters["wrap"] = wrap
    environment.filters["underline"] = underline


_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n{3,}")


def render_text(template: Template, context: dict[str, Any]) -> str:
    """Render the text template with fresh footnotes; leave single blank lines between elements."""
    text = template.render(context, footnotes=Footnotes())
    text = _BLANK_RUNS.sub("\n\n", _TRAILING_SPACE.sub("", text))
    return text.strip("\n") + "\n"
