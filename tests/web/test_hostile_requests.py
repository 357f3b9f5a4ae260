"""Issue 15, "Hostile input", against the real web app: in-process over ASGI, and a real
uvicorn where the attack is about the connection itself.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import Message, Receive, Scope, Send

from newsletter.config import (
    NewsletterSection,
    Settings,
)
from newsletter.db.database import Database
from newsletter.web.app import create_app
from tests.support.db import add_edition
from tests.support.posts import make_post
from tests.support.settings import BASE_URL, make_settings
from tests.support.system import wait_until_async
from tests.support.web import uvicorn_serving

BASE_HOST = str(urlsplit(BASE_URL).hostname)
JSON = {"Content-Type": "application/json"}


def hostile_settings(tmp_path: Path, **web: object) -> Settings:
    """Mails go to a local outbox: these tests are about what the app answers."""
    return make_settings(
        smtp={"transport": "maildir", "maildir": str(tmp_path / "outbox")}, web=web
    )


def client(app: Starlette, base_url: str = BASE_URL) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url=base_url)


@pytest.fixture
def app(database: Database, tmp_path: Path) -> Starlette:
    return create_app(hostile_settings(tmp_path), database)


# 3. Deeply nested JSON, and no 500 for any client input


async def test_deeply_nested_json_is_a_400_not_a_500(
    app: Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    async with client(app) as http:
        answer = await http.post("/subscribe", content="[" * 15000, headers=JSON)
    assert answer.status_code == 400
    assert answer.json()["code"] == "bad_request"
    assert not [r for r in caplog.records if r.exc_info]


HOSTILE_REQUESTS: list[tuple[str, str, dict[str, str], bytes]] = [
    ("POST", "/subscribe", JSON, b'{"email": ' * 5000),
    ("POST", "/subscribe", JSON, b"1" * 6000),  # more digits than int() takes
    ("POST", "/subscribe", JSON, b'{"email": "\\ud800@example.org"}'),
    ("POST", "/subscribe", JSON, b'{"email": {"$ne": 1}, "name": []}'),
    ("POST", "/subscribe", JSON, b"\xff\xfe"),
    ("POST", "/subscribe", {"Content-Type": "application/x-www-form-urlencoded"}, b"%ff=%fe"),
    (
        "POST",
        "/subscribe",
        {"Content-Type": "application/x-www-form-urlencoded"},
        b"&".join(b"f%d=1" % n for n in range(50)),
    ),
    ("POST", "/subscribe", {"Content-Type": "multipart/form-data; boundary=x"}, b"--x\r\nbad"),
    (
        "POST",
        "/subscribe",
        {"Content-Type": "multipart/form-data; boundary=x"},
        b'--x\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\nA\r\n--x--\r\n',
    ),
    ("GET", "/confirm/%ff%fe%00", {}, b""),
    ("POST", "/confirm/" + "A" * 4000, {}, b""),
    ("GET", "/unsubscribe/..%2f..%2fetc%2fpasswd", {}, b""),
    ("POST", "/unsubscribe/x?List-Unsubscribe=One-Click", {}, b"List-Unsubscribe=One-Click"),
    ("GET", "/archive/%00", {}, b""),
    ("GET", "/archive/" + "%e2%80%ae" * 300, {}, b""),
    ("DELETE", "/archive", {}, b""),
]


@pytest.mark.parametrize(("method", "path", "headers", "body"), HOSTILE_REQUESTS)
async def test_no_client_input_gets_a_500(
    app: Starlette,
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
) -> None:
    async with client(app) as http:
        answer = await http.request(method, path, headers=headers, content=body)
    assert 400 <= answer.status_code < 500, answer.text[:300]
    assert not [r for r in caplog.records if r.exc_info]


# 4. The Host header in redirects, and web.trusted_hosts


@pytest.mark.parametrize("path", ["/archive/", "/subscribe/", "/archive/?x=1", "/"])
async def test_an_untrusted_host_is_refused_and_never_reflected(app: Starlette, path: str) -> None:
    async with client(app) as http:
        answer = await http.get(path, headers={"Host": "evil.example"})
    assert answer.status_code == 400
    assert "evil.example" not in answer.headers.get("location", "")


@pytest.mark.parametrize("host", [BASE_HOST, "127.0.0.1:8080", "localhost"])
async def test_redirects_are_relative_for_every_trusted_host(app: Starlette, host: str) -> None:
    async with client(app) as http:
        archive = await http.get("/archive/?pagina=2", headers={"Host": host})
        signup = await http.get("/subscribe/", headers={"Host": host})
        assert (await http.get("/bestaat-niet/", headers={"Host": host})).status_code == 404
    assert archive.status_code == 307
    assert archive.headers["location"] == "/archive?pagina=2"
    assert signup.headers["location"] == "/subscribe"


async def test_an_encoded_question_mark_stays_in_the_path(app: Starlette) -> None:
    async with client(app) as http:
        answer = await http.get("/archive/%3Fx/")
    assert answer.status_code == 307
    assert answer.headers["location"] == "/archive/%3Fx"


async def test_redirects_keep_the_path_of_base_url(database: Database, tmp_path: Path) -> None:
    settings = hostile_settings(tmp_path)
    prefixed = Settings(
        newsletter=NewsletterSection(base_url=f"{BASE_URL}/nieuwsbrief"),
        smtp=settings.smtp,
        secret_key=settings.secret_key,
    )
    async with client(create_app(prefixed, database)) as http:
        answer = await http.get("/archive/")
    assert answer.headers["location"] == "/nieuwsbrief/archive"


async def test_trusted_hosts_setting_replaces_the_default(
    database: Database, tmp_path: Path
) -> None:
    app = create_app(hostile_settings(tmp_path, trusted_hosts=("*.example.net",)), database)
    async with client(app) as http:
        assert (await http.get("/healthz", headers={"Host": "www.example.net"})).status_code == 200
        assert (await http.get("/healthz", headers={"Host": "localhost"})).status_code == 400


@pytest.mark.parametrize(
    ("base_url", "host"),
    [(BASE_URL, "[::1]:8080"), ("http://[::1]:18081", "[::1]:18081"), (BASE_URL, "[::1]")],
)
async def test_ipv6_hosts_are_answered(
    database: Database, tmp_path: Path, base_url: str, host: str
) -> None:
    """A Host header names an IPv6 address in brackets; loopback and base_url's own pass."""
    settings = hostile_settings(tmp_path)
    settings = replace(settings, newsletter=replace(settings.newsletter, base_url=base_url))
    async with client(create_app(settings, database)) as http:
        answer = await http.get("/healthz", headers={"Host": host})
        foreign = await http.get("/healthz", headers={"Host": "[2001:db8::1]"})
    assert answer.status_code == 200, answer.text
    assert foreign.status_code == 400


# 8. A disconnect mid-request; a 413 to a JSON client


async def test_a_client_that_disconnects_mid_request_is_one_log_line(
    app: Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    """The ASGI conversation uvicorn has with the app when the client hangs up."""
    incoming: list[Message] = [
        {"type": "http.request", "body": b'{"email": "an', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": "/subscribe",
        "raw_path": b"/subscribe",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", BASE_HOST.encode()),
            (b"content-type", b"application/json"),
            (b"content-length", b"500"),
        ],
        "client": ("203.0.113.9", 5000),
        "server": ("127.0.0.1", 8080),
        "state": {},
    }
    with caplog.at_level(logging.INFO):
        await app(scope, receive, send)
    lines = [r for r in caplog.records if "disconnected" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING
    assert "203.0.113.9" in lines[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info]


class Watched:
    """The app, telling the test when a request's first body bytes reached it and when
    uvicorn is done with the request (its own logging included)."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.body_arrived = threading.Event()
        self.finished = threading.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def noting() -> Message:
            message = await receive()
            if message.get("body"):
                self.body_arrived.set()
            return message

        try:
            await self.app(scope, noting, send)
        finally:
            # Set after this step of uvicorn's task, so after it logs what the app raised.
            asyncio.get_running_loop().call_soon(self.finished.set)


@pytest.fixture
def watched(app: Starlette) -> Watched:
    return Watched(app)


@pytest.fixture
def served(watched: Watched) -> Iterator[int]:
    """The app on a real uvicorn (as ``newsletter web`` runs it), on a free port."""
    with uvicorn_serving(watched) as port:
        yield port


async def test_a_real_disconnect_on_uvicorn_leaves_no_traceback(
    served: int, watched: Watched, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    _reader, writer = await asyncio.open_connection("127.0.0.1", served)
    writer.write(
        b"POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b'Content-Length: 500\r\n\r\n{"email": "an'
    )
    await writer.drain()
    await wait_until_async(watched.body_arrived.is_set, timeout=10, what="the request's body")
    writer.close()
    await writer.wait_closed()
    await wait_until_async(watched.finished.is_set, timeout=10, what="the end of the request")
    lines = [r.getMessage() for r in caplog.records]
    assert any("disconnected" in line for line in lines), lines
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{served}") as http:
        assert (await http.get("/healthz")).status_code == 200


async def test_a_413_answers_json_to_a_json_client(app: Starlette) -> None:
    huge = b'{"email": "a@example.org", "name": "' + b"x" * 100_000 + b'"}'
    async with client(app) as http:
        as_json = await http.post("/subscribe", content=huge, headers=JSON)
        as_form = await http.post(
            "/subscribe",
            content=b"email=a%40example.org&name=" + b"x" * 100_000,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        missing = await http.get("/bestaat-niet", headers={"Accept": "application/json"})
    assert as_json.status_code == 413
    assert as_json.headers["content-type"] == "application/json"
    assert as_json.json()["code"] == "too_large" and as_json.json()["ok"] is False
    assert as_json.headers["access-control-allow-origin"] == "*"
    assert as_form.status_code == 413 and as_form.headers["content-type"].startswith("text/html")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


async def test_an_archived_post_stored_with_a_javascript_link_is_not_served(
    app: Starlette, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """A row stored before import refused such links: a 404 and one log line, never a 500."""
    add_edition(database, make_post("oud", url="javascript:alert(1)"), "sent")
    add_edition(database, make_post("goed", url="https://example.org/goed"), "sent")
    async with client(app) as http:
        hostile = await http.get("/archive/oud")
        fine = await http.get("/archive/goed")
    assert hostile.status_code == 404
    assert "javascript:" not in hostile.text
    assert fine.status_code == 200
    assert not [r for r in caplog.records if r.exc_info]
    assert any("'oud' is not shown" in r.getMessage() for r in caplog.records)


def test_a_body_only_claimed_to_be_huge_is_refused_at_once(served: int) -> None:
    """Content-Length over the cap: 413 without waiting for 99 MB that never come."""
    with socket.create_connection(("127.0.0.1", served), timeout=10) as connection:
        connection.sendall(
            b"POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 99999999\r\n\r\nemail=a"
        )
        answer = connection.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413 ")
