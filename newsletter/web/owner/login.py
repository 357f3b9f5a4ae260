"""Logging in to the owner's area by mail, and out again.

``/beheer`` asks for nothing: its one button mails a login link to
``newsletter.owner_address``, and only there. The answer is the same page whatever the
request holds and whether or not a mail went out, and the mail leaves after the response,
so not even its timing tells anything. The link shows a button (a mail scanner that opens
it spends nothing); its POST spends the link and starts the session.

Limits: link requests per client address, mails to the owner per hour (nobody can flood
the owner's inbox through the button), and tries of a link per client address.
"""

from __future__ import annotations

import logging
from functools import partial

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from newsletter.db import owner_logins
from newsletter.db.models import utcnow
from newsletter.delivery.single import SingleMessageSender
from newsletter.mail.owner_login import build_login_message
from newsletter.web.context import route
from newsletter.web.owner.access import AREA, CSRF_FIELD, OwnerAccess, Visit
from newsletter.web.ratelimit import SlidingWindowLimiter

logger = logging.getLogger("newsletter.web")

REQUESTS_PER_IP_PER_QUARTER = 5
LINKS_PER_HOUR = 5
TRIES_PER_IP_PER_QUARTER = 10
LINK_MINUTES = int(owner_logins.LINK_LIFETIME.total_seconds() // 60)


class OwnerLogin:
    def __init__(self, access: OwnerAccess, sender: SingleMessageSender) -> None:
        self.access = access
        self.context = access.context
        self.sender = sender
        self.requests = SlidingWindowLimiter(REQUESTS_PER_IP_PER_QUARTER, 15 * 60)
        self.links = SlidingWindowLimiter(LINKS_PER_HOUR, 3600)
        self.tries = SlidingWindowLimiter(TRIES_PER_IP_PER_QUARTER, 15 * 60)

    def routes(self) -> list[Route]:
        return [
            route(AREA + "/inloggen/{token}", get=self.show_link, post=self.use_link),
            route(AREA + "/uitloggen", post=self.access.guard(self.log_out)),
        ]

    async def request_link(self, request: Request) -> Response:
        """The button's POST: a link to the owner, and the same page for everyone."""
        visit = self.access.visit(request, None)
        if refused := await self._refusal(request, visit, self.requests):
            return refused
        mail = None
        if self.context.settings.newsletter.owner_address and self.links.allow("owner"):
            mail = BackgroundTask(self._mail_link)
        elif not self.context.settings.newsletter.owner_address:
            logger.warning("a login link was asked for, but newsletter.owner_address is empty")
        response = self.access.render(visit, "owner/login.html", sent=True)
        response.background = mail
        return response

    async def show_link(self, request: Request) -> Response:
        """The page behind the mailed link: one button. A GET spends nothing (scanners)."""
        visit = self.access.visit(request, None)
        token = request.path_params["token"]
        return self.access.render(visit, "owner/use_link.html", token=token)

    async def use_link(self, request: Request) -> Response:
        visit = self.access.visit(request, None)
        if refused := await self._refusal(request, visit, self.tries):
            return refused
        token = request.path_params["token"]
        now = utcnow()
        login_id = await self.context.run(lambda session: owner_logins.use(session, token, now))
        if login_id is None:
            return self.access.refuse(visit, "login_link", 400)
        logger.info("the owner logged in (session %d)", login_id)
        response = RedirectResponse(self.access.path, status_code=303)
        self.access.start_session(response, login_id)
        return self.access.finish(response, visit)

    async def log_out(self, request: Request, visit: Visit) -> Response:
        assert visit.login_id is not None
        login_id = visit.login_id
        now = utcnow()
        await self.context.run(lambda session: owner_logins.end(session, login_id, now))
        response = RedirectResponse(self.access.path, status_code=303)
        self.access.end_session(response)
        return self.access.finish(response, visit)

    async def _refusal(
        self, request: Request, visit: Visit, limiter: SlidingWindowLimiter
    ) -> Response | None:
        """The answer to a POST before a session exists: over its limit, or without its
        CSRF token; None when it may go on."""
        if not limiter.allow(_client(request)):
            return self.access.refuse(visit, "rate_limited", 429)
        form = await request.form(max_files=0, max_fields=10)
        if not self.access.csrf_ok(request, form.get(CSRF_FIELD)):
            return self.access.refuse(visit, "csrf", 403)
        return None

    async def _mail_link(self) -> None:
        """Runs after the response went out; a failure is logged, the owner can ask again."""
        settings = self.context.settings
        now = utcnow()
        try:
            token = await self.context.run(lambda session: owner_logins.issue(session, now))
            url = self.context.absolute_url(f"{AREA}/inloggen/{token}")
            handed = await self.sender.send(
                partial(
                    build_login_message,
                    settings.newsletter,
                    login_url=url,
                    valid_minutes=LINK_MINUTES,
                    now=now,
                ),
                settings.newsletter.owner_address,
            )
        except Exception:
            logger.exception("could not send the owner's login link")
            return
        if handed.problem is not None:
            logger.warning("the owner's login link was not accepted: %s", handed.problem)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"
