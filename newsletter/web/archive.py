"""The public archive: every edition that went out, readable as a web page.

The "Bekijk in je browser" link of every email points at ``/archive/{slug}``, so the page
must show the email exactly as sent, cards included, but to anyone who has the link: it is
rendered for a neutral reader (plain "Hoi,", no address) and its "Afmelden" link becomes
"Aanmelden", pointing at the sign-up form, since a public page can hold nobody's
unsubscribe token; the "Instellingen" link (a reader's own page) is left out, with the
separator after it. A post with a page of its own on the blog names it as the source
(``<link rel="canonical">``), so search engines send readers to the blog, not here.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from newsletter.db.models import Edition
from newsletter.db.models import Post as PostRow
from newsletter.db.post_queue import EditionPosts, edition_posts
from newsletter.db.states import PUBLISHED
from newsletter.errors import NewsletterError
from newsletter.mail.render import (
    MANAGE_PLACEHOLDER,
    UNSUBSCRIBE_PLACEHOLDER,
    Recipient,
    personalise,
    post_url,
    render_edition,
)
from newsletter.web.context import WebContext, route

logger = logging.getLogger(__name__)

_CACHE_SIZE = 16
_UNSUBSCRIBE_LINK = re.compile(
    r'(<a\b[^>]*?href=")' + UNSUBSCRIBE_PLACEHOLDER + r'("[^>]*>).*?(</a>)', re.DOTALL
)
_MANAGE_LINK = re.compile(
    r'<a\b[^>]*?href="' + MANAGE_PLACEHOLDER + r'"[^>]*>.*?</a>[^<]*', re.DOTALL
)


@dataclass(frozen=True, slots=True)
class ArchiveEntry:
    slug: str
    title: str
    sent_at: datetime


def published_editions(session: Session) -> list[ArchiveEntry]:
    """Posts that went out (or are going out now), newest first, one entry per post."""
    sent_at = func.max(func.coalesce(Edition.finished_at, Edition.started_at, Edition.created_at))
    rows = session.execute(
        select(PostRow.slug, PostRow.title, sent_at)
        .join(Edition, Edition.post_id == PostRow.id)
        .where(Edition.status.in_(PUBLISHED))
        .group_by(PostRow.id, PostRow.slug, PostRow.title)
        .order_by(sent_at.desc(), PostRow.id.desc())
    )
    return [ArchiveEntry(slug, title, when) for slug, title, when in rows]


def published_post(session: Session, slug: str) -> PostRow | None:
    """The post behind ``slug`` if an edition of it went out; unsent posts stay private."""
    went_out = select(Edition.id).where(
        Edition.post_id == PostRow.id, Edition.status.in_(PUBLISHED)
    )
    return session.scalars(
        select(PostRow).where(PostRow.slug == slug, went_out.exists())
    ).one_or_none()


class ArchivePages:
    def __init__(self, context: WebContext) -> None:
        self.context = context
        # Rendering inlines CSS with premailer; keep the last few pages, keyed by content.
        self._rendered: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def routes(self) -> list[Route]:
        return [route("/archive", get=self.index), route("/archive/{slug}", get=self.edition)]

    async def index(self, request: Request) -> Response:
        entries = await self.context.run(published_editions)
        return self.context.pages.render("archive.html", entries=entries)

    async def edition(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        if "\x00" in slug:  # no slug holds one, and PostgreSQL refuses it in a query (a 500)
            raise HTTPException(status_code=404)
        found = await self.context.run(lambda session: self._shown(session, slug))
        if found is None:
            raise HTTPException(status_code=404)
        try:
            page = await run_in_threadpool(self._page, *found)
        except NewsletterError as exc:
            # A post stored before a rule it breaks (a javascript: link, say): not shown,
            # and the log says why in one line.
            logger.warning("archive: post %r is not shown: %s", slug, exc)
            raise HTTPException(status_code=404) from None
        return HTMLResponse(page)

    def _shown(self, session: Session, slug: str) -> tuple[PostRow, EditionPosts] | None:
        """The published post's row and document, and the posts it went out with as cards."""
        post = published_post(session, slug)
        if post is None:
            return None
        return post, edition_posts(session, post, self.context.settings.newsletter.more_posts)

    def _page(self, post: PostRow, shown: EditionPosts) -> str:
        key = (post.slug, post.content_hash)
        with self._lock:
            if key in self._rendered:
                return self._rendered[key]
        html = self._render(shown)
        with self._lock:
            if len(self._rendered) >= _CACHE_SIZE:
                self._rendered.pop(next(iter(self._rendered)))
            self._rendered[key] = html
        return html

    def _render(self, shown: EditionPosts) -> str:
        newsletter = self.context.settings.newsletter
        edition = render_edition(shown.post, newsletter, shown.cards)
        subscribe_url = self.context.absolute_url("/subscribe")
        subscribe_link = _UNSUBSCRIBE_LINK.sub(
            lambda link: f"{link[1]}{html.escape(subscribe_url)}{link[2]}Aanmelden{link[3]}",
            edition.html,
        )
        public = dataclasses.replace(edition, html=_MANAGE_LINK.sub("", subscribe_link))
        # Anything the pattern missed still gets the sign-up URL, never a token.
        reader = Recipient(
            email="",
            name=None,
            unsubscribe_url=subscribe_url,
            browser_url=self.context.absolute_url(f"/archive/{quote(shown.post.slug, safe='')}"),
        )
        page, _text = personalise(public, reader)
        if shown.post.url:
            source = html.escape(post_url(shown.post, newsletter.post_url_template))
            page = page.replace("</head>", f'<link rel="canonical" href="{source}">\n</head>', 1)
        return page
