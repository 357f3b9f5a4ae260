"""What every group of pages shares: reading a client's JSON, refusing in JSON, links that
leave the site, and one route per path whatever its methods."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from newsletter.web.context import json_object, json_refusal, route

from .conftest import http_client


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (b'{"email": "a@example.nl"}', {"email": "a@example.nl"}),
        (b'["a@example.nl"]', None),
        (b"\xff\xfe", None),
        (b"{", None),
        ("[" * 100_000, None),
    ],
    ids=["object", "array", "not-utf-8", "broken", "too-deep"],
)
def test_json_object_is_an_object_or_none(document: str | bytes, expected: object) -> None:
    assert json_object(document) == expected


def test_a_json_refusal_says_why_in_dutch_and_allows_any_origin() -> None:
    refusal = json_refusal("not_found", 404)
    assert refusal.status_code == 404
    assert refusal.body == (
        b'{"ok":false,"code":"not_found","message":"Deze pagina bestaat niet."}'
    )
    assert refusal.headers["access-control-allow-origin"] == "*"


async def test_one_route_per_path_lists_every_method_and_answers_head() -> None:
    async def read(request: Request) -> Response:
        return PlainTextResponse("gelezen")

    async def write(request: Request) -> Response:
        return PlainTextResponse("geschreven")

    app = Starlette(routes=[route("/ding", get=read, post=write)])
    async with http_client(app) as http:
        got, posted, head = (
            await http.get("/ding"),
            await http.post("/ding"),
            await http.head("/ding"),
        )
        refused = await http.delete("/ding")
    assert (got.text, posted.text, head.status_code) == ("gelezen", "geschreven", 200)
    assert refused.status_code == 405
    assert set(refused.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
