"""``create_app``: the web door for subscribers, an ASGI app served by uvicorn.

It runs on its own (``newsletter web``) or inside ``newsletter run`` next to the scheduler;
nothing is created at import time. Pages: unsubscribe (link and RFC 8058 one-click),
sign-up with double opt-in, the reader's own page (pause, name, address), the archive,
the owner's area (``/beheer``, see :mod:`newsletter.web.owner`), and ``/healthz`` for
monitors. Every failure a subscriber can meet ends on a Dutch page that names no one.

The app's own endpoints and error pages are module-level functions; what they need (the
pages, the database, the scheduler's pulse) is put on ``app.state`` once by
:func:`create_app` and read back from the request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Match
from starlette.types import ExceptionHandler, Receive, Scope, Send

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.delivery.single import SingleMessageSender
from newsletter.errors import ExpiredTokenError, InvalidTokenError
from newsletter.web.archive import ArchivePages
from newsletter.web.context import PRIVATE, WebContext, json_refusal, route, wants_json
from newsletter.web.manage import ManagePages
from newsletter.web.owner import owner_routes
from newsletter.web.security import (
    SECURITY_HEADERS,
    BodySizeLimitMiddleware,
    SecurityHeadersMiddleware,
)
from newsletter.web.signup import SignupPages
from newsletter.web.unsubscribe import UnsubscribePages
from newsletter.web.webhooks import SnsVerifier, Webhooks

logger = logging.getLogger("newsletter.web")

HEALTH_TIMEOUT_SECONDS = 5.0
_ERROR_KINDS = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def create_app(
    settings: Settings,
    database: Database,
    *,
    sender: SingleMessageSender | None = None,
    scheduler_alive: Callable[[], bool] | None = None,
    sns: SnsVerifier | None = None,
) -> Starlette:
    """The app; ``sender`` sends confirmation mails (by default through the configured
    transport), ``scheduler_alive`` feeds ``/healthz``, ``sns`` says where SNS signing
    certificates may come from (Amazon's hosts unless a test says otherwise).

    Without ``scheduler_alive`` (the web app on its own) the health answer has no
    ``scheduler`` key at all, rather than claiming a scheduler that is not there.
    """
    context = WebContext.create(settings, database)
    sender = sender or SingleMessageSender(settings)
    app = Starlette(
        routes=[
            route("/", get=home),
            route("/healthz", get=health),
            *UnsubscribePages(context).routes(),
            *SignupPages(context, sender).routes(),
            *ManagePages(context, sender).routes(),
            *ArchivePages(context).routes(),
            *owner_routes(context, sender),
            *Webhooks(settings, database, sns).routes(),
        ],
        middleware=_middleware(settings),
        exception_handlers=_EXCEPTION_HANDLERS,
    )
    app.state.door = _Door(context, scheduler_alive)
    app.router.redirect_slashes = False
    app.router.default = _TrailingSlashRedirect(app, context.pages.url)
    return app


@dataclass(frozen=True)
class _Door:
    """What the module-level endpoints and error pages read from ``app.state``."""

    context: WebContext
    scheduler_alive: Callable[[], bool] | None


def _door(request: Request) -> _Door:
    door = request.app.state.door
    assert isinstance(door, _Door)
    return door


def _middleware(settings: Settings) -> list[Middleware]:
    return [
        Middleware(SecurityHeadersMiddleware),
        # A Host header is only answered for our own names, so nothing built from it
        # (a redirect, a link) can point at someone else's site.
        Middleware(
            TrustedHostMiddleware,
            allowed_hosts=list(settings.trusted_hosts),
            www_redirect=False,
        ),
        Middleware(BodySizeLimitMiddleware),
    ]


async def home(request: Request) -> Response:
    return RedirectResponse(_door(request).context.pages.url("/archive"))


async def health(request: Request) -> Response:
    door = _door(request)
    body: dict[str, str] = {}
    healthy = True
    try:
        await asyncio.wait_for(
            run_in_threadpool(_ping, door.context.database), timeout=HEALTH_TIMEOUT_SECONDS
        )
        body["database"] = "ok"
    except (SQLAlchemyError, TimeoutError) as exc:
        logger.warning("health check: database unreachable: %s", exc)
        body["database"] = "unreachable"
        healthy = False
    if door.scheduler_alive is not None:
        alive = door.scheduler_alive()
        body["scheduler"] = "ok" if alive else "not running"
        healthy = healthy and alive
    return JSONResponse(
        body, status_code=200 if healthy else 503, headers={"Cache-Control": "no-store"}
    )


def _ping(database: Database) -> None:
    with database.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    kind = _ERROR_KINDS.get(exc.status_code, "bad_request")
    if wants_json(request):
        return json_refusal(kind, exc.status_code, headers=exc.headers)
    return _door(request).context.pages.error(kind, exc.status_code, headers=exc.headers)


async def client_gone(request: Request, exc: Exception) -> Response:
    """Someone closed the connection mid-request: nothing broke here, one line is enough."""
    client = request.client.host if request.client else "unknown"
    logger.warning(
        "client %s disconnected before %s %s was read", client, request.method, request.url.path
    )
    return Response(status_code=400)  # nobody is left to read it


async def invalid_link(request: Request, exc: Exception) -> Response:
    return _door(request).context.pages.error("invalid_link", 400, headers=PRIVATE)


async def expired_link(request: Request, exc: Exception) -> Response:
    return _door(request).context.pages.error("expired_link", 400, headers=PRIVATE)


async def server_error(request: Request, exc: Exception) -> Response:
    # This answer comes from the outermost middleware, past the security headers one.
    return _door(request).context.pages.error("server_error", 500, headers=SECURITY_HEADERS)


_EXCEPTION_HANDLERS: dict[int | type[Exception], ExceptionHandler] = {
    HTTPException: http_error,
    ClientDisconnect: client_gone,
    ExpiredTokenError: expired_link,
    InvalidTokenError: invalid_link,
    Exception: server_error,
}


class _TrailingSlashRedirect:
    """``/archive/`` to ``/archive``, relative and under base_url's path, else a 404.

    Starlette's own slash redirect is absolute, built from the Host header of the request:
    ``Host: evil.example`` would send a visitor to evil.example.
    """

    def __init__(self, app: Starlette, url: Callable[[str], str]) -> None:
        self._routes = app.router.routes
        self._url = url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        # Never "//host": a browser reads a path that starts so as another site.
        if scope["type"] == "http" and path.endswith("/") and not path.startswith(("//", "/\\")):
            trimmed = {**scope, "path": path.rstrip("/") or "/"}
            if any(route.matches(trimmed)[0] is not Match.NONE for route in self._routes):
                query = scope.get("query_string", b"").decode("latin-1")
                target = self._url(quote(trimmed["path"])) + (f"?{query}" if query else "")
                await RedirectResponse(target)(scope, receive, send)
                return
        raise HTTPException(status_code=404)
