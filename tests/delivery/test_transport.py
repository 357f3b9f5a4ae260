"""The way out as configured: the relay's lanes or the outbox's one, and a transport that
cannot even start refused before an edition exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.delivery.attempt import Outcome
from newsletter.delivery.maildir import MaildirLane
from newsletter.delivery.transport import check_transport, open_lanes
from newsletter.errors import DeliveryError
from tests.support.settings import make_settings, relay
from tests.support.smtp import SmtpServer

MESSAGE = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: Rust\r\n\r\nHallo\r\n"


async def test_without_a_relay_the_one_lane_is_the_outbox(tmp_path: Path) -> None:
    settings = make_settings(newsletter={"data_dir": str(tmp_path)})
    check_transport(settings)
    lanes, close = open_lanes(settings)
    assert len(lanes) == 1 and isinstance(lanes[0], MaildirLane)
    attempt = await lanes[0].deliver("a@example.org", "b@example.org", MESSAGE)
    await close()
    assert attempt.outcome == Outcome.SENT
    assert len(list((tmp_path / "outbox" / "new").iterdir())) == 1


async def test_a_relay_has_a_lane_per_connection(smtp_server: SmtpServer) -> None:
    settings = make_settings(smtp=relay(smtp_server.port, connections=3))
    check_transport(settings)
    lanes, close = open_lanes(settings)
    try:
        assert len(lanes) == 3
        attempt = await lanes[2].deliver("a@example.org", "b@example.org", MESSAGE)
    finally:
        await close()
    assert attempt.outcome == Outcome.SENT
    assert [address for address, _ in smtp_server.handler.messages] == ["b@example.org"]


def test_an_outbox_that_cannot_be_made_is_a_delivery_error(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder", encoding="utf-8")
    settings = make_settings(smtp={"maildir": str(tmp_path / "taken" / "outbox")})
    with pytest.raises(DeliveryError, match=f"cannot open the maildir {tmp_path}/taken/outbox"):
        check_transport(settings)
    with pytest.raises(DeliveryError):
        open_lanes(settings)


def test_a_relay_whose_ca_file_cannot_be_loaded_is_a_delivery_error(tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("not a certificate", encoding="utf-8")
    settings = make_settings(smtp=relay(25, security="starttls", ca_file=str(ca_file)))
    with pytest.raises(DeliveryError, match=r"cannot load smtp\.ca_file"):
        check_transport(settings)
