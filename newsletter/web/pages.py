"""The Jinja2 environment of the web pages (``templates/web``), apart from the email templates.

Pages are small and server-rendered: no JavaScript, no external assets, every style inline
in the layout, so the strict Content-Security-Policy holds and the pages work in any
browser. All copy a subscriber reads lives in the templates, in Dutch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.background import BackgroundTask
from starlette.responses import HTMLResponse

from newsletter.config import Settings
from newsletter.config.shipped import resource_dir

_MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def dutch_date(moment: datetime) -> str:
    """``3 november 2025``: how a date reads on a Dutch page, independent of the OS locale."""
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


class Pages:
    """Renders a page template into a complete HTML response."""

    def __init__(self, settings: Settings) -> None:
        # Links are root-relative with the path of base_url, so the app also works when a
        # proxy serves it under a prefix such as https://example.org/nieuwsbrief.
        self._prefix = urlsplit(settings.newsletter.base_url).path.rstrip("/")
        self._environment = Environment(
            loader=FileSystemLoader(resource_dir("templates/web")),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._environment.globals.update(
            newsletter_name=settings.newsletter.name, url=self.url, dutch_date=dutch_date
        )

    def url(self, path: str) -> str:
        """The link to one of our own pages, e.g. ``url("/subscribe")``."""
        return self._prefix + path

    def render(
        self,
        template: str,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
        **context: Any,
    ) -> HTMLResponse:
        html = self._environment.get_template(template).render(context)
        return HTMLResponse(html, status_code=status_code, headers=headers, background=background)

    def text_hash(self, template: str, **context: Any) -> str:
        """SHA-256 of the words a visitor reads in a page's ``<main>`` (markup and spacing
        left out): which version of the sign-up text a reader agreed to."""
        reader = _MainText()
        reader.feed(self._environment.get_template(template).render(context))
        reader.close()
        words = " ".join(" ".join(reader.pieces).split())
        return hashlib.sha256(words.encode()).hexdigest()

    def error(
        self, kind: str, status_code: int, *, headers: Mapping[str, str] | None = None
    ) -> HTMLResponse:
        """The Dutch error page; ``kind`` picks the copy in ``error.html``."""
        return self.render("error.html", status_code=status_code, headers=headers, kind=kind)


class _MainText(HTMLParser):
    """Collects the text inside ``<main>``."""

    def __init__(self) -> None:
        super().__init__()
        self.pieces: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "main":
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "main" and self._depth:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.pieces.append(data)
