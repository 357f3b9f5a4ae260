"""Response headers that lock the pages down, and a cap on request bodies.

The pages load nothing from anywhere (``default-src 'none'``), post only to themselves,
cannot be framed (clickjacking an unsubscribe button) and leak no token-bearing URL in a
Referer. There are no cookies: the signed token in the URL is the capability, so there is
no session a cross-site request could ride on.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

# Sign-up forms and one-click POSTs are a few hundred bytes; nothing we accept is larger.
MAX_BODY_BYTES = 16 * 1024
# Relay webhooks are not: an SES notification through SNS carries the original message's
# headers (``mail.headers``), often tens of kilobytes. 1 MiB holds any real one with room.
WEBHOOK_MAX_BODY_BYTES = 1024 * 1024
# Path prefixes with their own limit; every other path has ``MAX_BODY_BYTES``.
BODY_LIMITS_BY_PREFIX: dict[str, int] = {"/webhooks/": WEBHOOK_MAX_BODY_BYTES}


class SecurityHeadersMiddleware:
    """Adds :data:`SECURITY_HEADERS` to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimitMiddleware:
    """Stops reading a request body past ``limit`` bytes: a public form must not take a gigabyte.

    The check counts what actually arrives, so it also holds for chunked bodies without a
    Content-Length. Going over raises Starlette's ``HTTPException(413)`` inside the endpoint
    that reads the body, which the app turns into its Dutch 413 page. A path under one of
    ``by_prefix`` (the relay webhooks) has that prefix's limit instead.
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: int = MAX_BODY_BYTES,
        by_prefix: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.limit = limit
        self.by_prefix = dict(BODY_LIMITS_BY_PREFIX if by_prefix is None else by_prefix)

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.by_prefix.items():
            if path.startswith(prefix):
                return limit
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        received = 0
        declared = Headers(scope=scope).get("content-length", "")
        # Refused before waiting for a body that a client only claims to send.
        too_large = declared.isdigit() and int(declared) > limit

        async def limited_receive() -> Message:
            nonlocal received
            if too_large:
                raise HTTPException(status_code=413)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(status_code=413)
            return message

        await self.app(scope, limited_receive, send)
