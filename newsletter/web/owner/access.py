"""Who may see the owner's area: the session cookie, the CSRF token, and the guard.

The subscriber pages need no cookie (the signed token in the URL is the capability); the
owner's area does, so it brings its own protections:

- the session cookie is the id of an :class:`~newsletter.db.models.OwnerLogin` row signed
  with the secret key (itsdangerous, its own salt): HttpOnly, SameSite=Strict, Secure when
  ``base_url`` is https, seven days. A new secret key breaks every signature, so rotating
  the key logs everyone out; logging out ends the row, so a copied cookie dies too.
- every POST carries a CSRF token: an HMAC, under the secret key, of a random value kept
  in a second cookie (SameSite=Strict, so another site's form cannot send it). The login
  form has it as well, before there is any session.

:meth:`OwnerAccess.guard` wraps every endpoint of the area but the login itself: no
session, and the answer is the login page with nothing of the area in it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from newsletter.db import owner_logins
from newsletter.db.models import utcnow
from newsletter.web.context import PRIVATE, WebContext

SESSION_COOKIE = "beheer_sessie"
CSRF_COOKIE = "beheer_csrf"
CSRF_FIELD = "csrf"
SESSION_SECONDS = int(owner_logins.SESSION_LENGTH.total_seconds())
AREA = "/beheer"
MAX_ID = 2**31 - 1  # the largest id a row can have (PostgreSQL refuses to compare more)

OwnerEndpoint = Callable[[Request, "Visit"], Awaitable[Response]]


@dataclass(frozen=True)
class Visit:
    """One request in the area: the session it belongs to (None before login) and the
    CSRF value its forms carry; ``new_nonce`` is set when the cookie must be (re)set."""

    login_id: int | None
    nonce: str
    new_nonce: bool
    csrf: str


class OwnerAccess:
    """The cookies and checks of the owner's area, made once per app."""

    def __init__(self, context: WebContext) -> None:
        self.context = context
        self._sessions = URLSafeTimedSerializer(
            context.secret,
            salt="newsletter.owner-session",
            signer_kwargs={"digest_method": hashlib.sha256},
        )
        self._csrf_key = hashlib.sha256(b"newsletter.owner-csrf" + context.secret.encode()).digest()
        self._secure = urlsplit(context.settings.newsletter.base_url).scheme == "https"
        self.path = context.pages.url(AREA)

    def csrf_for(self, nonce: str) -> str:
        return hmac.new(self._csrf_key, nonce.encode(), hashlib.sha256).hexdigest()

    def visit(self, request: Request, login_id: int | None) -> Visit:
        nonce = request.cookies.get(CSRF_COOKIE, "")
        new = len(nonce) != 43 or not nonce.replace("-", "").replace("_", "").isalnum()
        if new:
            nonce = secrets.token_urlsafe(32)
        return Visit(login_id, nonce, new, self.csrf_for(nonce))

    def csrf_ok(self, request: Request, submitted: object) -> bool:
        nonce = request.cookies.get(CSRF_COOKIE, "")
        if not nonce or not isinstance(submitted, str):
            return False
        return hmac.compare_digest(self.csrf_for(nonce), submitted)

    async def session_of(self, request: Request, now: datetime | None = None) -> int | None:
        """The open session the request's cookie names, or None."""
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return None
        try:
            login_id = self._sessions.loads(cookie, max_age=SESSION_SECONDS)
        except BadSignature:  # SignatureExpired is one too
            return None
        if isinstance(login_id, bool) or not isinstance(login_id, int):
            return None
        moment = now or utcnow()
        is_open = await self.context.run(
            lambda session: owner_logins.is_open(session, login_id, moment)
        )
        return login_id if is_open else None

    def start_session(self, response: Response, login_id: int) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            self._sessions.dumps(login_id),
            max_age=SESSION_SECONDS,
            path=self.path,
            secure=self._secure,
            httponly=True,
            samesite="strict",
        )

    def end_session(self, response: Response) -> None:
        response.delete_cookie(
            SESSION_COOKIE, path=self.path, secure=self._secure, httponly=True, samesite="strict"
        )

    def finish(self, response: Response, visit: Visit) -> Response:
        """Set the CSRF cookie when this visit made a new value; never cache the area."""
        if visit.new_nonce:
            response.set_cookie(
                CSRF_COOKIE,
                visit.nonce,
                max_age=SESSION_SECONDS,
                path=self.path,
                secure=self._secure,
                httponly=True,
                samesite="strict",
            )
        response.headers.update(PRIVATE)
        return response

    def render(self, visit: Visit, template: str, status_code: int = 200, **page: Any) -> Response:
        """An area page, its forms carrying the visit's CSRF token."""
        response = self.context.pages.render(
            template,
            status_code=status_code,
            csrf=visit.csrf,
            area=self.path,
            signed_in=visit.login_id is not None,
            **page,
        )
        return self.finish(response, visit)

    def refuse(self, visit: Visit, kind: str, status_code: int) -> Response:
        return self.render(visit, "owner/refused.html", status_code=status_code, kind=kind)

    def guard(self, endpoint: OwnerEndpoint) -> Callable[[Request], Awaitable[Response]]:
        """The endpoint, for a request with an open session (and, for a POST, its CSRF
        token); otherwise the login page (403 for a POST), with nothing of the area."""

        async def guarded(request: Request) -> Response:
            login_id = await self.session_of(request)
            visit = self.visit(request, login_id)
            if login_id is None:
                status = 200 if request.method in ("GET", "HEAD") else 403
                return self.render(visit, "owner/login.html", status_code=status, sent=False)
            if request.method == "POST":
                form = await request.form(max_files=0, max_fields=20)
                if not self.csrf_ok(request, form.get(CSRF_FIELD)):
                    return self.refuse(visit, "csrf", 403)
            return await endpoint(request, visit)

        return guarded
