"""What the owner can do from the area: hold or release the waiting edition (or the next one,
before the slot makes it: :mod:`newsletter.db.owner_hold`), get its review copy, move or
skip posts in the queue, bring back a reader dropped by mistake.

Each action is a POST with the CSRF token (the guard checks it before anything here
runs), calls the one function that already does it for the CLI, and records an event
with actor ``owner``. The answer is a redirect to the overview, which names what was done
(``?gedaan=``, one of a fixed list of codes: nothing typed is ever shown back).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from newsletter.db import owner_hold, post_queue, subscribers
from newsletter.db.events import record_event
from newsletter.db.models import EditionStatus
from newsletter.delivery import editions
from newsletter.delivery.contents import render_post
from newsletter.delivery.publish import send_test_copy
from newsletter.errors import NewsletterError
from newsletter.mail.render import RenderedEdition
from newsletter.web.context import route
from newsletter.web.owner.access import AREA, MAX_ID, OwnerAccess, Visit
from newsletter.web.owner.outlook import waiting_edition

logger = logging.getLogger("newsletter.web")

ACTOR = "owner"
HOLD_REASON = "held by the owner in the web area"
Work = Callable[[Session], str]


class OwnerActions:
    def __init__(self, access: OwnerAccess) -> None:
        self.access = access
        self.context = access.context

    def routes(self) -> list[Route]:
        guard = self.access.guard
        actions = {
            "vasthouden": self.hold,
            "vrijgeven": self.release,
            "proefexemplaar": self.review_copy,
            "omhoog": self.move_up,
            "omlaag": self.move_down,
            "overslaan": self.skip,
            "terugzetten": self.reactivate,
        }
        return [
            route(f"{AREA}/acties/{name}", post=guard(action)) for name, action in actions.items()
        ]

    async def hold(self, request: Request, visit: Visit) -> Response:
        """Hold edition ``editie``, waiting and not started; without one, the next weekly
        edition: the draft waiting, or else the one the slot makes (held when made)."""
        edition_id = await _number(request, "editie")

        def work(session: Session) -> str:
            waiting = edition_id or _waiting_draft(session)
            if not waiting:
                owner_hold.ask(session, ACTOR)
                return "volgende-vastgehouden"
            edition = editions.get_edition(session, waiting)
            if edition.status != EditionStatus.DRAFT:
                return "kan-niet"
            editions.hold(session, waiting, HOLD_REASON)
            record_event(session, "edition_held", ACTOR, edition_id=waiting)
            return "vastgehouden"

        return await self._do(work)

    async def release(self, request: Request, visit: Visit) -> Response:
        """Release held edition ``editie``; without one, take back the hold on the edition
        the slot has yet to make."""
        edition_id = await _number(request, "editie")

        def work(session: Session) -> str:
            if not edition_id:
                withdrawn = owner_hold.withdraw(session, ACTOR)
                return "volgende-vrijgegeven" if withdrawn else "kan-niet"
            editions.release_edition(session, edition_id, actor=ACTOR)
            return "vrijgegeven"

        return await self._do(work)

    async def review_copy(self, request: Request, visit: Visit) -> Response:
        """The "[TEST] " copy of the next post to the owner, as the weekly review sends it."""
        settings = self.context.settings
        owner = settings.newsletter.owner_address

        def next_edition(session: Session) -> tuple[str, RenderedEdition] | None:
            post = post_queue.next_unsent(session)
            if post is None:
                return None
            return post.slug, render_post(session, settings.newsletter, post)

        try:
            found = await self.context.run(next_edition)
        except NewsletterError as exc:  # the post no longer renders
            logger.warning("the owner's review copy failed: %s", exc)
            return self._done("mislukt")
        if found is None or not owner:
            return self._done("kan-niet")
        slug, rendered = found
        handed = await run_in_threadpool(send_test_copy, settings, rendered, owner)
        if handed.problem is not None:
            logger.warning("the owner's review copy of %s failed: %s", slug, handed.problem)
            return self._done("mislukt")

        def work(session: Session) -> str:
            record_event(session, "review_copy_sent", ACTOR, post=slug)
            return "proef-verstuurd"

        return await self._do(work)

    async def move_up(self, request: Request, visit: Visit) -> Response:
        slug = await _text(request, "post")
        return await self._do(lambda session: _move(session, slug, -1))

    async def move_down(self, request: Request, visit: Visit) -> Response:
        slug = await _text(request, "post")
        return await self._do(lambda session: _move(session, slug, +1))

    async def skip(self, request: Request, visit: Visit) -> Response:
        slug = await _text(request, "post")

        def work(session: Session) -> str:
            post_queue.set_skipped(session, slug, True)
            record_event(session, "post_skipped", ACTOR, post=slug)
            return "overgeslagen"

        return await self._do(work)

    async def reactivate(self, request: Request, visit: Visit) -> Response:
        """Bring back a reader dropped as bounced by mistake (as ``subscribers reactivate``);
        one who unsubscribed or complained stays out."""
        address = await _text(request, "adres")

        def work(session: Session) -> str:
            subscribers.reactivate(session, address, actor=ACTOR)
            return "teruggezet"

        return await self._do(work, refused="niet-terug")

    async def _do(self, work: Work, *, refused: str = "kan-niet") -> Response:
        """Run ``work`` in one transaction; a refusal (a post already sent, an edition that
        is not held) is the overview saying it could not be done, and why where the page
        cannot have known (``refused``), never an error page."""
        try:
            done = await self.context.run(work)
        except NewsletterError as exc:
            logger.info("owner action refused: %s", exc)
            done = refused
        return self._done(done)

    def _done(self, code: str) -> Response:
        return RedirectResponse(f"{self.access.path}?gedaan={code}", status_code=303)


def _waiting_draft(session: Session) -> int | None:
    """The newest edition made and not started, if it is a draft (in its review time)."""
    waiting = waiting_edition(session)
    return waiting.id if waiting is not None and waiting.status == EditionStatus.DRAFT else None


def _move(session: Session, slug: str, step: int) -> str:
    """Swap ``slug`` with its neighbour in the queue (``step`` -1: up, +1: down)."""
    queued = [entry.slug for entry in post_queue.entries(session) if entry.status == "queued"]
    if slug not in queued:
        return "kan-niet"
    index = queued.index(slug)
    other = index + step
    if not 0 <= other < len(queued):
        return "kan-niet"
    if step < 0:
        post_queue.move_before(session, slug, queued[other])
    else:
        post_queue.move_before(session, queued[other], slug)
    record_event(session, "post_moved", ACTOR, post=slug, direction="up" if step < 0 else "down")
    return "verplaatst"


async def _text(request: Request, field: str) -> str:
    form = await request.form()  # read and checked by the guard already, so cached
    value = form.get(field)
    # No slug holds a NUL, and PostgreSQL refuses one in a query (a 500, not an answer).
    return value if isinstance(value, str) and "\x00" not in value else ""


async def _number(request: Request, field: str) -> int:
    value = await _text(request, field)
    number = int(value) if value.isascii() and value.isdigit() and len(value) <= 10 else 0
    return number if number <= MAX_ID else 0
