"""The reader's own page, behind the "Instellingen" link of every mail: pause for 2, 4 or
8 weeks, change the greeting name, move to a new address, or unsubscribe.

Scanner-safe like the unsubscribe page: a GET only shows forms, every change is a POST,
answered with a redirect back to the page (so a reload repeats nothing) that names what
was done. As everywhere in the app, the signed token in the URL is the capability and no
cookie exists for a cross-site request to ride on, while the Content-Security-Policy lets
the forms post only to this site (see ``security.py``). No JavaScript is needed.

A new address is confirmed from a link mailed to it (``/move/{token}``, again a button
behind a GET); until then the old address keeps receiving. Once it is confirmed, the old
address is told where the newsletter went (the new one masked), so a forwarded manage link
cannot move a reader away unseen.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from newsletter.db import reader_controls
from newsletter.db.models import utcnow
from newsletter.db.reader_controls import (
    PAUSE_WEEKS,
    Moved,
    MoveLink,
    MoveOutcome,
    ReaderSettings,
)
from newsletter.db.subscribers import NAME_MAX_LENGTH, normalise_address
from newsletter.db.subscriptions import mask_address
from newsletter.delivery.single import SingleMessageSender
from newsletter.errors import InputError
from newsletter.mail.confirmation import (
    CONFIRM_MAX_AGE_DAYS,
    build_move_message,
    build_moved_notice,
)
from newsletter.web.context import PRIVATE, WebContext, route
from newsletter.web.mailing import send_after_answer
from newsletter.web.ratelimit import SlidingWindowLimiter

MOVE_MAX_AGE = CONFIRM_MAX_AGE_DAYS * 24 * 60 * 60
MOVE_MAILS_PER_READER_PER_HOUR = 3
# What the page says after a change (``?gedaan=...``): the copy is in ``manage.html``.
Done = Literal["pauze", "hervat", "naam", "adres"]
DONE: tuple[Done, ...] = get_args(Done)


class ManagePages:
    def __init__(
        self,
        context: WebContext,
        sender: SingleMessageSender,
        *,
        per_reader: SlidingWindowLimiter | None = None,
    ) -> None:
        self.context = context
        self.sender = sender
        # Nobody mail-bombs an address by asking to move to it again and again.
        self.per_reader = per_reader or SlidingWindowLimiter(MOVE_MAILS_PER_READER_PER_HOUR, 3600)

    def routes(self) -> list[Route]:
        return [
            route("/manage/{token}", get=self.show),
            route("/manage/{token}/pause", post=self.pause),
            route("/manage/{token}/resume", post=self.resume),
            route("/manage/{token}/name", post=self.rename),
            route("/manage/{token}/address", post=self.move),
            route("/move/{token}", get=self.show_move, post=self.confirm_move),
        ]

    async def show(self, request: Request) -> Response:
        """The page: what is set now and a form per change. Changes nothing."""
        token = request.path_params["token"]
        subscriber_id = self.context.subscriber_id("manage", token)
        found = await self.context.run(
            lambda session: reader_controls.settings_of(session, subscriber_id)
        )
        done = request.query_params.get("gedaan")
        return self._page(subscriber_id, token, found, done=done if done in DONE else None)

    async def pause(self, request: Request) -> Response:
        subscriber_id, token = self._reader(request)
        form = await request.form(max_files=0, max_fields=10)
        weeks = str(form.get("weeks", ""))
        if not weeks.isdigit() or int(weeks) not in PAUSE_WEEKS:
            return await self._refuse(subscriber_id, token, "weeks")
        await self.context.run(
            lambda session: reader_controls.pause(session, subscriber_id, int(weeks))
        )
        return self._after(token, "pauze")

    async def resume(self, request: Request) -> Response:
        subscriber_id, token = self._reader(request)
        await self.context.run(lambda session: reader_controls.resume(session, subscriber_id))
        return self._after(token, "hervat")

    async def rename(self, request: Request) -> Response:
        subscriber_id, token = self._reader(request)
        form = await request.form(max_files=0, max_fields=10)
        name = str(form.get("name", ""))

        def work(session: Session) -> ReaderSettings | None:
            return reader_controls.rename(session, subscriber_id, name)

        try:
            await self.context.run(work)
        except InputError:
            return await self._refuse(subscriber_id, token, "name")
        return self._after(token, "naam")

    async def move(self, request: Request) -> Response:
        """Ask for a new address: the confirm link goes to it, after the answer."""
        subscriber_id, token = self._reader(request)
        form = await request.form(max_files=0, max_fields=10)
        try:
            new_address = normalise_address(str(form.get("email", "")))
        except InputError:
            return await self._refuse(subscriber_id, token, "email")
        asked = await self.context.run(
            lambda session: reader_controls.request_move(session, subscriber_id, new_address)
        )
        if asked is None:
            return self._after(token, "adres")
        outcome, link = asked
        if outcome == "same":
            return await self._refuse(subscriber_id, token, "same")
        mail = None
        if link is not None and self.per_reader.allow(str(subscriber_id)):
            mail = BackgroundTask(self._send_move_link, link)
        return self._after(token, "adres", mail)

    async def show_move(self, request: Request) -> Response:
        """The page behind the mailed link: one button. A GET never moves anyone."""
        return await self._move_step(request, reader_controls.move_page)

    async def confirm_move(self, request: Request) -> Response:
        """Move the reader; then the old address is told, after the answer."""
        token = request.path_params["token"]
        subscriber_id, made = self._move_token(token)
        confirmed = await self.context.run(
            lambda session: reader_controls.confirm_move(session, subscriber_id, made)
        )
        if confirmed is None:
            return self._move_page(None, token)
        outcome, moved = confirmed
        notice = None if moved is None else BackgroundTask(self._send_moved, subscriber_id, moved)
        return self._move_page(outcome, token, notice)

    async def _move_step(
        self, request: Request, step: Callable[[Session, int, datetime], MoveOutcome | None]
    ) -> Response:
        """Read the link's token (to the reader and when it was made) and take ``step``."""
        token = request.path_params["token"]
        subscriber_id, made = self._move_token(token)
        outcome = await self.context.run(lambda session: step(session, subscriber_id, made))
        return self._move_page(outcome, token)

    def _move_token(self, token: str) -> tuple[int, datetime]:
        return self.context.stamped_subscriber_id("move", token, max_age=MOVE_MAX_AGE)

    def _reader(self, request: Request) -> tuple[int, str]:
        token = request.path_params["token"]
        return self.context.subscriber_id("manage", token), token

    def _after(self, token: str, done: Done, background: BackgroundTask | None = None) -> Response:
        """Back to the page (303: the browser GETs it), which says what was done; for a
        reader who is no longer active it shows why nothing could be."""
        target = self.context.pages.url(f"/manage/{token}?gedaan={done}")
        return RedirectResponse(target, status_code=303, headers=PRIVATE, background=background)

    async def _refuse(self, subscriber_id: int, token: str, problem: str) -> Response:
        found = await self.context.run(
            lambda session: reader_controls.settings_of(session, subscriber_id)
        )
        return self._page(subscriber_id, token, found, problem=problem, status_code=400)

    def _page(
        self,
        subscriber_id: int,
        token: str,
        found: ReaderSettings | None,
        *,
        done: Done | None = None,
        problem: str | None = None,
        status_code: int = 200,
    ) -> Response:
        if found is None:
            return self.context.pages.error("invalid_link", 400, headers=PRIVATE)
        zone = ZoneInfo(self.context.settings.schedule.timezone)
        return self.context.pages.render(
            "manage.html",
            status_code=status_code,
            headers=PRIVATE,
            reader=found,
            # The last day of the pause as the reader's calendar (the schedule's) has it.
            paused_until=found.paused_until.astimezone(zone) if found.paused_until else None,
            token=token,
            unsubscribe_token=self.context.token("unsubscribe", subscriber_id),
            pause_weeks=PAUSE_WEEKS,
            name_max_length=NAME_MAX_LENGTH,
            done=done,
            problem=problem,
        )

    def _move_page(
        self, outcome: MoveOutcome | None, token: str, background: BackgroundTask | None = None
    ) -> Response:
        pages = self.context.pages
        if outcome is None:
            return pages.error("invalid_link", 400, headers=PRIVATE)
        status_code = 400 if outcome in ("spent", "taken") else 200
        response = pages.render(
            "move.html", status_code=status_code, headers=PRIVATE, outcome=outcome, token=token
        )
        response.background = background
        return response

    async def _send_moved(self, subscriber_id: int, moved: Moved) -> None:
        await send_after_answer(
            self.sender,
            "address changed",
            subscriber_id,
            moved.old_address,
            lambda: build_moved_notice(
                self.context.settings.newsletter,
                old_address=moved.old_address,
                masked_new_address=mask_address(moved.new_address),
                name=moved.name,
                now=utcnow(),
            ),
        )

    async def _send_move_link(self, link: MoveLink) -> None:
        token = self.context.token("move", link.subscriber_id)
        await send_after_answer(
            self.sender,
            "address confirmation",
            link.subscriber_id,
            link.new_address,
            lambda: build_move_message(
                self.context.settings.newsletter,
                new_address=link.new_address,
                name=link.name,
                confirm_url=self.context.absolute_url(f"/move/{token}"),
                now=utcnow(),
            ),
        )
