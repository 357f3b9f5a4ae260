"""Fixtures for the web tests: the real ASGI app over HTTP and the toolkit's test relay.

Confirmation mails travel for real: the app's production sender delivers them to the
toolkit's aiosmtpd server on 127.0.0.1 (port 0), which records what arrived.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.web.app import create_app
from tests.support.settings import make_settings, relay
from tests.support.smtp import ReceivedMail, SmtpServer
from tests.support.system import wait_until

BASE_URL = "http://testserver"
CLIENT_IP = "203.0.113.7"


def web_settings(smtp_port: int, base_url: str = BASE_URL) -> Settings:
    """The app at ``base_url`` sending its mails through the test relay on ``smtp_port``."""
    return make_settings(newsletter={"base_url": base_url}, smtp=relay(smtp_port, timeout=10))


@pytest.fixture
def outbox(smtp_server: SmtpServer) -> list[ReceivedMail]:
    return smtp_server.handler.received


@pytest.fixture
def smtp_port(smtp_server: SmtpServer) -> int:
    return smtp_server.port


@pytest.fixture
def settings(smtp_port: int) -> Settings:
    """The app sends its confirmation mails with the production sender to the test server."""
    return web_settings(smtp_port)


def http_client(app: Any, client_ip: str = CLIENT_IP) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(client_ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL)


@pytest.fixture
async def client(settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(create_app(settings, database)) as http:
        yield http


@dataclass
class LiveServer:
    settings: Settings
    url: str


@pytest.fixture
def live_server(database: Database, smtp_port: int) -> Iterator[LiveServer]:
    """uvicorn in a thread on 127.0.0.1, port 0; base_url is the real address, as in production."""
    with serving(database, lambda url: web_settings(smtp_port, base_url=url)) as server:
        yield server


@contextmanager
def serving(database: Database, settings_for: Callable[[str], Settings]) -> Iterator[LiveServer]:
    """The app on uvicorn in a thread, with the settings ``settings_for`` its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = settings_for(url)
    app = create_app(settings, database)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=10, what="uvicorn to start")
    try:
        yield LiveServer(settings, url)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
