"""The delivery tests' settings: the toolkit's relay (``smtp_server``) as the SMTP server."""

from __future__ import annotations

import pytest

from newsletter.config import Settings
from tests.support.settings import make_settings, relay
from tests.support.smtp import SmtpServer


@pytest.fixture
def settings(smtp_server: SmtpServer) -> Settings:
    return make_settings(smtp=relay(smtp_server.port))
