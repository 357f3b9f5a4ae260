"""What every group of pages shares: settings, database, templates and the signing key."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.mail.tokens import TokenPurpose, make_token, read_stamped_token, read_token
from newsletter.web.pages import Pages

T = TypeVar("T")
Endpoint = Callable[[Request], Awaitable[Response]]

# Pages reached through a personal token are nobody's to keep: not in a shared cache, not
# in the browser's back-forward history of a library computer.
PRIVATE = {"Cache-Control": "no-store"}
# The blog's sign-up box lives on another origin; no cookies are involved, so any origin
# may read a JSON answer (a refusal included, or its script could not show why).
CORS = {"Access-Control-Allow-Origin": "*"}

# JSON answers carry a code for the blog's script and a Dutch sentence it can show as is.
JSON_MESSAGES = {
    "ok": "Bijna klaar: check je inbox en bevestig je aanmelding.",
    "invalid_email": "Dit e-mailadres lijkt niet te kloppen. Kijk je het nog even na?",
    "invalid_name": "Deze naam is te lang. Een voornaam is genoeg.",
    "bad_request": "Dit verzoek kon niet worden gelezen.",
    "rate_limited": "Even rustig aan: probeer het over een minuut opnieuw.",
    "too_large": "Dit verzoek is te groot. Stuur alleen je e-mailadres en voornaam.",
    "not_found": "Deze pagina bestaat niet.",
    "method_not_allowed": "Dit verzoek kan hier niet.",
}


def wants_json(request: Request) -> bool:
    """A request that sent JSON, or asked for it, gets its answer (and refusal) as JSON."""
    headers = request.headers
    return headers.get("content-type", "").startswith("application/json") or (
        "application/json" in headers.get("accept", "")
    )


def json_object(document: str | bytes) -> dict[str, Any] | None:
    """The JSON object a client sent, or None for anything else: not JSON, not UTF-8, not an
    object, or nested deeper than the parser recurses (``"[" * 100_000`` raises
    RecursionError, which is bad input like any other, not a server error)."""
    try:
        value = json.loads(document)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def json_refusal(
    code: str, status_code: int, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = {"ok": False, "code": code, "message": JSON_MESSAGES[code]}
    return JSONResponse(body, status_code=status_code, headers={**CORS, **(headers or {})})


@dataclass(frozen=True)
class WebContext:
    settings: Settings
    database: Database
    pages: Pages
    secret: str

    @classmethod
    def create(cls, settings: Settings, database: Database) -> WebContext:
        return cls(settings, database, Pages(settings), settings.signing_key())

    async def run(self, work: Callable[[Session], T]) -> T:
        """One unit of work in a worker thread: SQLAlchemy sessions here are synchronous."""

        def in_session() -> T:
            with self.database.session() as session:
                return work(session)

        return await run_in_threadpool(in_session)

    def subscriber_id(self, purpose: TokenPurpose, token: str, max_age: int | None = None) -> int:
        """The subscriber a token names; raises ``InvalidTokenError`` (a Dutch 400 page)."""
        return read_token(self.secret, purpose, token, max_age=max_age)

    def stamped_subscriber_id(
        self, purpose: TokenPurpose, token: str, max_age: int | None = None
    ) -> tuple[int, datetime]:
        """The subscriber a token names and when the token was made."""
        return read_stamped_token(self.secret, purpose, token, max_age=max_age)

    def token(self, purpose: TokenPurpose, subscriber_id: int) -> str:
        return make_token(self.secret, purpose, subscriber_id)

    def absolute_url(self, path: str) -> str:
        """A link for a mail: it leaves the site, so it starts with the public base URL."""
        return self.settings.newsletter.base_url.rstrip("/") + path


def route(path: str, **endpoints: Endpoint) -> Route:
    """One route per path with an endpoint per method (``get=..., post=...``).

    Separate routes for one path would make a 405 list only the first route's methods in
    its Allow header. HEAD is answered by the GET endpoint.
    """
    by_method = {method.upper(): endpoint for method, endpoint in endpoints.items()}

    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await by_method[method](request)

    return Route(path, dispatch, methods=list(by_method))
