"""The headers every response carries (CSP, framing, referrer, ...), whatever the page."""

from __future__ import annotations

import httpx

from newsletter.db.database import Database
from newsletter.mail.tokens import make_token
from newsletter.web.security import SECURITY_HEADERS
from tests.support.db import add_edition, add_subscriber
from tests.support.posts import make_post
from tests.support.settings import SECRET

ADDRESS = "lezer@example.nl"


def assert_secure(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.request.url, name)


async def test_security_headers_on_every_response(
    client: httpx.AsyncClient, database: Database
) -> None:
    subscriber_id = add_subscriber(database, ADDRESS)
    add_edition(database, make_post("innerlijke-rust", "Innerlijke rust", every_block=True), "sent")
    unsubscribe = f"/unsubscribe/{make_token(SECRET, 'unsubscribe', subscriber_id)}"
    confirm = f"/confirm/{make_token(SECRET, 'confirm', subscriber_id)}"
    requests = [
        ("GET", "/"),
        ("GET", "/subscribe"),
        ("OPTIONS", "/subscribe"),
        ("GET", "/archive"),
        ("GET", "/archive/innerlijke-rust"),
        ("GET", "/archive/bestaat-niet"),
        ("GET", "/healthz"),
        ("GET", unsubscribe),
        ("GET", confirm),
        ("GET", "/unsubscribe/kapot"),
        ("PUT", "/subscribe"),
        ("POST", "/subscribe"),
        ("POST", confirm),
        ("POST", unsubscribe),
    ]
    for method, path in requests:
        response = await client.request(method, path)
        assert response.status_code < 500, (method, path)
        assert_secure(response)
    one_click = await client.post(
        f"/unsubscribe/{make_token(SECRET, 'unsubscribe', subscriber_id)}",
        data={"List-Unsubscribe": "One-Click"},
    )
    assert_secure(one_click)
