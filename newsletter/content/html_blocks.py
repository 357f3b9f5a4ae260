"""WordPress post HTML (a feed's ``content:encoded``) turned into the same parts as a scraped page.

Markup already says what is a heading, a list or a quote, so this module only walks the
tags (stdlib :class:`html.parser.HTMLParser`, no dependency) and emits units;
:func:`.assemble.assemble` then classifies paragraphs, reads the questions, FAQ and related
sections and drops site furniture exactly as it does for scraped text.
"""

from __future__ import annotations

from html.parser import HTMLParser

from newsletter.content.assemble import ArticleBody, Unit, UnitKind, assemble
from newsletter.content.classify import clean_text, join_continuation

_HEADINGS: dict[str, UnitKind] = {
    "h1": "heading",
    "h2": "heading",
    "h3": "subheading",
    "h4": "subheading",
    "h5": "subheading",
    "h6": "subheading",
}
_PARAGRAPHS = frozenset(
    {"p", "div", "section", "article", "header", "footer", "figure", "figcaption", "pre",
     "table", "tr", "td", "th", "dl", "dt", "dd", "hr"}
)  # fmt: skip
_LISTS = frozenset({"ul", "ol"})
_SKIPPED = frozenset({"script", "style", "noscript", "template", "iframe", "svg", "form", "button"})


def html_to_blocks(html: str) -> ArticleBody:
    """The questions, blocks, FAQ and related titles of one post's HTML body."""
    return assemble(html_units(html))


def html_units(html: str) -> list[Unit]:
    collector = _UnitCollector()
    collector.feed(html)
    collector.close()
    return collector.units


def html_text(html: str) -> str:
    """Every word of an HTML fragment on one line, for markup inside one block (the inline
    tags of a Markdown paragraph, an element in a Markdown list item).

    Read by the same collector as the blocks, so script and style contents stay out and a
    ``<br>`` is a space here too: "Groet,<br>Gerrit" is one sign-off wherever it stands.
    """
    return " ".join(text for unit in html_units(html) for text in (unit.text, *unit.items) if text)


class _UnitCollector(HTMLParser):
    """Collects text per block element; lists and blockquotes gather their inner blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.units: list[Unit] = []
        self._text: list[str] = []
        self._kind: UnitKind = "paragraph"
        self._skip_depth = 0
        self._list_depth = 0
        self._items: list[str] = []
        # The next text in a list starts an item (after <li>, or after a nested list ends);
        # otherwise it is a further paragraph of the item it stands in.
        self._new_item = True
        self._quote_depth = 0
        self._quote_parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip_depth += 1
        elif tag == "br":
            self._text.append(" ")
        elif tag in _LISTS:
            self._flush()
            self._list_depth += 1
        elif tag == "li":
            self._flush()
            self._new_item = True
        elif tag in _PARAGRAPHS:
            self._flush()
        elif tag == "blockquote":
            self._flush()
            self._quote_depth += 1
        elif tag in _HEADINGS:
            self._flush()
            self._kind = _HEADINGS[tag]

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _LISTS:
            self._flush()
            self._list_depth = max(0, self._list_depth - 1)
            self._new_item = True
            if self._list_depth == 0 and self._items:
                self.units.append(Unit("list", items=tuple(self._items)))
                self._items = []
        elif tag == "blockquote":
            self._flush()
            self._quote_depth = max(0, self._quote_depth - 1)
            if self._quote_depth == 0 and self._quote_parts:
                self.units.append(Unit("quote", " ".join(self._quote_parts)))
                self._quote_parts = []
        elif tag == "li" or tag in _PARAGRAPHS or tag in _HEADINGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self._text.append(data)

    def close(self) -> None:
        super().close()
        self._flush()
        if self._items:
            self.units.append(Unit("list", items=tuple(self._items)))
        if self._quote_parts:
            self.units.append(Unit("quote", " ".join(self._quote_parts)))

    def _flush(self) -> None:
        """Route the text gathered since the last block boundary to where it belongs."""
        text = clean_text("".join(self._text))
        kind, self._kind, self._text = self._kind, "paragraph", []
        if not text:
            return
        if self._list_depth:
            if self._new_item or not self._items:
                self._items.append(text)
                self._new_item = False
            else:
                self._items[-1] = join_continuation(self._items[-1], text)
        elif self._quote_depth:
            self._quote_parts.append(text)
        else:
            self.units.append(Unit(kind, text))
