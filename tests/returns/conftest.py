"""The receivers' tests' settings: any mail the listener sends goes to the toolkit's test relay."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from newsletter.config import InboundSection, Settings
from newsletter.db.database import Database
from newsletter.returns.listener import InboundController, build_inbound_controller
from tests.support.returned import bounce_settings
from tests.support.settings import make_settings, relay
from tests.support.smtp import SmtpServer


@pytest.fixture
def settings(smtp_server: SmtpServer) -> Settings:
    return make_settings(smtp=relay(smtp_server.port, timeout=10))


@pytest.fixture
def report_settings(database_url: str, smtp_server: SmtpServer) -> Settings:
    """Settings for handing in reports after a send: VERP, the owner, the test relay."""
    return bounce_settings(database_url, smtp_server.port)


@pytest.fixture
def listener(settings: Settings, database: Database) -> Iterator[InboundController]:
    """The real listener on 127.0.0.1, port 0, for as long as the test runs."""
    listening = dataclasses.replace(
        settings, inbound=InboundSection(enabled=True, host="127.0.0.1", port=0)
    )
    controller = build_inbound_controller(listening, database)
    controller.start()
    yield controller
    controller.stop()
