"""The inbound tests' settings: any mail the listener sends goes to the toolkit's test relay."""

from __future__ import annotations

import pytest

from newsletter.config import Settings
from tests.support.settings import make_settings, relay
from tests.support.smtp import SmtpServer


@pytest.fixture
def settings(smtp_server: SmtpServer) -> Settings:
    return make_settings(smtp=relay(smtp_server.port, timeout=10))
