"""Fixtures for the web tests: the real ASGI app over HTTP and the toolkit's test relay.

Confirmation mails travel for real: the app's production sender delivers them to the
toolkit's aiosmtpd server on 127.0.0.1 (port 0), which records what arrived.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.web import create_app
from tests.support.settings import make_settings, relay
from tests.support.smtp import ReceivedMail, SmtpServer

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
