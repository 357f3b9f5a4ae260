"""The send's event loop: uvloop's when it is installed, asyncio's own when it is not."""

from __future__ import annotations

import asyncio
import sys

from newsletter.delivery import event_loop
from newsletter.delivery.engine import send_edition
from tests.support.db import new_edition
from tests.support.smtp import SmtpServer


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_uvloop_runs_the_send_when_installed():
    """The dev extra installs uvloop, so the suite's sends run on it."""
    assert event_loop.run(_loop_module()).startswith("uvloop")


def test_without_uvloop_asyncio_runs_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as if not installed: import fails
    assert event_loop.loop_factory() is None
    assert event_loop.run(_loop_module()).startswith("asyncio")


def test_a_send_without_uvloop_delivers_every_message(
    database, smtp_server: SmtpServer, settings, monkeypatch
):
    monkeypatch.setitem(sys.modules, "uvloop", None)
    edition_id, addresses = new_edition(database, 40)
    summary = send_edition(database, settings, edition_id)
    assert summary.sent == 40 and set(smtp_server.handler.per_address()) == set(addresses)
