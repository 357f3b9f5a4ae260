"""The corpus of returned messages, end to end: a real edition goes out through a real
relay (aiosmtpd, logging envelopes), then each message comes back the way it would
(filled in for a real delivery, its VERP return path taken from the relay's log) through
``newsletter bounces process`` and through the inbound SMTP listener (aiosmtplib client).
Each must leave the reader in the right state, write the right events, and change
nothing when it comes back a second time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiosmtplib
import pytest
from sqlalchemy import func, select

from newsletter.config import InboundSection, Settings
from newsletter.db.database import Database
from newsletter.db.models import BounceReport, Event
from newsletter.inbound.listener import InboundController, build_inbound_controller
from newsletter.mail.verp import ReturnPaths

from .helpers import (
    BOUNCES,
    FROM,
    SECRET,
    LoggingRelay,
    add_readers,
    delivered_to,
    delivery_of,
    events_of,
    fill,
    make_settings,
    relay_port,
    run_cli,
    send_next,
    start_relay,
    status_of,
    write_config,
)

READER = "lezer1@voorbeeld.nl"

# corpus file -> (result, the reader's status afterwards)
EXPECTED = {
    "postfix_hard.eml": ("hard", "bounced"),
    "postfix_delayed.eml": ("soft", "active"),
    "exim_hard.eml": ("hard", "bounced"),
    "gmail_hard.eml": ("hard", "bounced"),
    "microsoft_hard.eml": ("hard", "bounced"),
    "microsoft_mailbox_full.eml": ("soft", "active"),
    "hosting_provider_hard.eml": ("hard", "bounced"),
    "qmail_hard.eml": ("hard", "bounced"),
    "yahoo_arf.eml": ("complaint", "complained"),
    "microsoft_arf.eml": ("complaint", "complained"),
    "out_of_office.eml": ("ignored", "active"),
    "vacation.eml": ("ignored", "active"),
    "forged_token.eml": ("ignored", "active"),
    "unknown_address.eml": ("ignored", "active"),
    "malformed_mime.eml": ("ignored", "active"),
}


@dataclass
class World:
    database: Database
    settings: Settings
    relay: LoggingRelay
    config: Path
    edition_id: int

    def returned(self, name: str) -> bytes:
        """Corpus message ``name`` as it comes back for READER's copy of the edition."""
        delivery = delivery_of(self.database, self.edition_id, READER)
        (envelope,) = [e for e in self.relay.log if READER in e.recipients]
        return fill(name, delivery=delivery, return_path=envelope.mail_from, recipient=READER)


@pytest.fixture
def world(database: Database, database_url: str, tmp_path: Path) -> Iterator[World]:
    controller, relay = start_relay()
    try:
        port = relay_port(controller)
        settings = make_settings(database_url, port)
        add_readers(database)
        edition_id = send_next(database, settings, "rust-vinden")
        config = write_config(tmp_path / "newsletter.toml", database_url, port)
        yield World(database, settings, relay, config, edition_id)
    finally:
        controller.stop()


def test_every_message_has_its_own_signed_return_path_and_an_unchanged_from(
    world: World,
) -> None:
    paths = ReturnPaths(BOUNCES, SECRET)
    assert len(world.relay.log) == 3
    for envelope in world.relay.log:
        (reader,) = envelope.recipients
        delivery = delivery_of(world.database, world.edition_id, reader)
        assert envelope.mail_from == paths.for_delivery(delivery.id)
        assert envelope.mail_from.startswith("bounces+")
        assert envelope.mail_from.endswith("@gerritvanderheide.com")
        assert f"From: Gerrit <{FROM}>".encode() in envelope.data


async def deliver_bounce(port: int, raw: bytes, recipient: str) -> int:
    """What a reporting MTA does: MAIL FROM:<> (the null sender of every bounce), RCPT, DATA."""
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10) as client:
        await client.mail("")
        await client.rcpt(recipient)
        reply = await client.data(raw)
        return reply.code


def _reports(database: Database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(BounceReport)) or 0)


def _events(database: Database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(Event)) or 0)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_through_the_cli(world: World, name: str, tmp_path: Path) -> None:
    result, status = EXPECTED[name]
    message = tmp_path / name
    message.write_bytes(world.returned(name))

    first = run_cli(world.config, "bounces", "process", "--json", str(message))
    assert first.exit_code == 0, first.output
    answer = json.loads(first.output)
    assert answer["result"] == result, answer
    # Whose message it was is known whenever the return path verifies, also for a reply.
    unknown = name in ("forged_token.eml", "unknown_address.eml")
    assert answer["email"] == (None if unknown else READER)
    assert answer["reason"]
    assert status_of(world.database, READER) == status
    for other in ("lezer0@voorbeeld.nl", "lezer2@voorbeeld.nl"):
        assert status_of(world.database, other) == "active"
    events = [e for e in events_of(world.database, READER) if e[1] == "cli"]
    if result == "ignored":
        assert events == []
    else:
        ((kind, _, detail),) = events
        assert kind == ("complaint" if result == "complaint" else "bounce")
        assert (detail["type"], detail["status_after"]) == (result, status)

    counts = (_reports(world.database), _events(world.database))
    again = run_cli(world.config, "bounces", "process", "--json", str(message))
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["duplicate"] is True
    assert (_reports(world.database), _events(world.database)) == counts


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_corpus_through_the_inbound_listener(world: World, name: str) -> None:
    result, status = EXPECTED[name]
    raw = world.returned(name)
    listening = dataclasses.replace(
        world.settings, inbound=InboundSection(enabled=True, host="127.0.0.1", port=0)
    )
    controller: InboundController = build_inbound_controller(listening, world.database)
    controller.start()
    try:
        for _ in range(2):  # the reporting server retries: the second copy changes nothing
            assert await deliver_bounce(controller.port, raw, delivered_to(raw)) == 250
    finally:
        controller.stop()
    assert status_of(world.database, READER) == status
    events = [e for e in events_of(world.database, READER) if e[1] == "inbound"]
    assert len(events) == (0 if result == "ignored" else 1)
    assert _reports(world.database) == 1


def test_a_file_that_is_not_a_mail_exits_1_and_changes_nothing(world: World) -> None:
    from .helpers import CORPUS

    result = run_cli(world.config, "bounces", "process", str(CORPUS / "not_a_mail.pdf"))
    assert result.exit_code == 1
    assert "not an e-mail message" in result.output
    assert "Traceback" not in result.output
    assert _reports(world.database) == 0


def test_a_maildir_and_stdin(world: World, tmp_path: Path) -> None:
    import mailbox

    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for name in ("postfix_hard.eml", "out_of_office.eml", "vacation.eml"):
        box.add(world.returned(name))
    result = run_cli(world.config, "bounces", "process", "--json", str(tmp_path / "Maildir"))
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.output.splitlines()]
    assert sorted(a["result"] for a in answers) == ["hard", "ignored", "ignored"]
    assert status_of(world.database, READER) == "bounced"

    piped = run_cli(world.config, "bounces", "process", "-", input=world.returned("yahoo_arf.eml"))
    assert piped.exit_code == 0, piped.output
    assert piped.output.startswith("-: complaint lezer1@voorbeeld.nl: complaint (abuse)")
    assert status_of(world.database, READER) == "complained"


def test_the_next_edition_skips_bounced_and_complaining_readers(world: World) -> None:
    delivery = delivery_of(world.database, world.edition_id, "lezer2@voorbeeld.nl")
    (envelope,) = [e for e in world.relay.log if "lezer2@voorbeeld.nl" in e.recipients]
    complaint = fill(
        "yahoo_arf.eml",
        delivery=delivery,
        return_path=envelope.mail_from,
        recipient="lezer2@voorbeeld.nl",
    )
    bounce = world.returned("gmail_hard.eml")
    for raw in (bounce, complaint):
        assert run_cli(world.config, "bounces", "process", "-", input=raw).exit_code == 0
    world.relay.clear()

    send_next(world.database, world.settings, "kleine-stappen")

    assert world.relay.recipients() == {"lezer0@voorbeeld.nl"}


async def test_without_a_bounce_address_bounces_come_to_from_and_match_by_message_id(
    database: Database, database_url: str
) -> None:
    controller, relay = start_relay()
    try:
        settings = make_settings(database_url, relay_port(controller), bounce_address="")
        add_readers(database)
        edition_id = await asyncio.to_thread(send_next, database, settings, "rust-vinden")
    finally:
        controller.stop()
    assert {entry.mail_from for entry in relay.log} == {FROM}

    listening = dataclasses.replace(
        settings, inbound=InboundSection(enabled=True, host="127.0.0.1", port=0)
    )
    listener = build_inbound_controller(listening, database)
    listener.start()
    try:
        delivery = delivery_of(database, edition_id, READER)
        raw = fill(
            "hosting_provider_hard.eml", delivery=delivery, return_path=FROM, recipient=READER
        )
        assert await deliver_bounce(listener.port, raw, FROM) == 250
        # A person writing to the list address is still refused, as before.
        with pytest.raises(aiosmtplib.SMTPDataError):
            await deliver_bounce(
                listener.port, b"From: a@b.nl\r\nSubject: hoi\r\n\r\nhoi\r\n", FROM
            )
    finally:
        listener.stop()
    assert status_of(database, READER) == "bounced"
