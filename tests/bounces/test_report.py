"""What the owner sees and what happens next: per-edition counts, ``bounces list``, the
soft-bounce count over editions, and the alert (one owner mail through the real relay,
the next weekly edition held until released)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsletter.config import BouncesSection, ScheduleSection
from newsletter.db.database import Database
from newsletter.delivery.bounces import process_message
from newsletter.scheduling.jobs import make_edition_for_week

from .helpers import (
    BOUNCES,
    LoggingRelay,
    add_readers,
    delivery_of,
    fill,
    make_settings,
    relay_port,
    run_cli,
    send_next,
    start_relay,
    status_of,
    write_config,
)

OWNER = "gerrit@gerritvanderheide.com"


@pytest.fixture
def relay() -> Iterator[tuple[int, LoggingRelay]]:
    controller, handler = start_relay()
    yield relay_port(controller), handler
    controller.stop()


def returned(
    database: Database, relay: LoggingRelay, edition_id: int, reader: str, name: str
) -> bytes:
    delivery = delivery_of(database, edition_id, reader)
    (envelope,) = [
        e
        for e in relay.log
        if reader in e.recipients
        and e.mail_from.startswith("bounces+")
        and delivery.message_id
        and delivery.message_id.encode() in e.data
    ]
    return fill(name, delivery=delivery, return_path=envelope.mail_from, recipient=reader)


def test_soft_bounces_in_three_of_the_last_five_editions_make_a_reader_bounced(
    database: Database, database_url: str, relay: tuple[int, LoggingRelay]
) -> None:
    port, log = relay
    settings = make_settings(database_url, port)
    add_readers(database)
    for number in range(3):
        edition_id = send_next(database, settings, f"week-{number}")
        raw = returned(database, log, edition_id, "lezer1@voorbeeld.nl", "postfix_delayed.eml")
        outcome = process_message(database, settings, raw, source="test")
        assert outcome.result == "soft"
        # a second report for the same edition does not count twice
        other = returned(
            database, log, edition_id, "lezer1@voorbeeld.nl", "microsoft_mailbox_full.eml"
        )
        process_message(database, settings, other, source="test")
        expected = "bounced" if number == 2 else "active"
        assert status_of(database, "lezer1@voorbeeld.nl") == expected, number


def test_counts_list_alert_and_the_held_next_edition(
    database: Database, database_url: str, relay: tuple[int, LoggingRelay], tmp_path: Path
) -> None:
    port, log = relay
    readers = tuple(f"lezer{n}@voorbeeld.nl" for n in range(40))
    add_readers(database, readers)
    settings = make_settings(database_url, port)
    settings = dataclasses.replace(
        settings,
        bounces=BouncesSection(address=BOUNCES, hard_alert_percent=5.0),
        schedule=ScheduleSection(review_minutes=0),
    )
    config = write_config(tmp_path / "newsletter.toml", database_url, port)
    first = send_next(database, settings, "week-1")
    run_cli(config, "subscribers", "remove", "lezer9@voorbeeld.nl")

    # 1 and then 2 hard bounces of 40 (2.5 %, 5 %): not past 5 %; the third is.
    for reader, name in (
        ("lezer1@voorbeeld.nl", "gmail_hard.eml"),
        ("lezer2@voorbeeld.nl", "postfix_hard.eml"),
        ("lezer3@voorbeeld.nl", "postfix_delayed.eml"),
        ("lezer4@voorbeeld.nl", "yahoo_arf.eml"),
    ):
        raw = returned(database, log, first, reader, name)
        assert process_message(database, settings, raw, source="test").result != "ignored"
    # complaints: 1 of 40 = 2.5 % > 0.3 %: the alert went out, once
    owner_mails = [e for e in log.log if OWNER in e.recipients]
    assert len(owner_mails) == 1
    assert b"Subject: Nieuwsbrief: te veel bounces of klachten bij editie 1" in owner_mails[0].data
    raw = returned(database, log, first, "lezer5@voorbeeld.nl", "exim_hard.eml")
    process_message(database, settings, raw, source="test")
    assert len([e for e in log.log if OWNER in e.recipients]) == 1

    shown = run_cli(config, "editions", "show", str(first), "--json")
    assert shown.exit_code == 0, shown.output
    numbers = json.loads(shown.output)
    assert numbers["bounces"] == {"hard": 3, "soft": 1}
    assert (numbers["complaints"], numbers["unsubscribes"]) == (1, 1)

    listed = run_cli(config, "bounces", "list", "--json")
    assert listed.exit_code == 0, listed.output
    results = [item["result"] for item in json.loads(listed.output)]
    assert results == ["hard", "complaint", "soft", "hard", "hard"]

    # The next weekly edition is made, but held until the owner releases it.
    with database.session() as session:
        from newsletter.db import post_queue

        from .helpers import post

        post_queue.import_posts(session, [post("week-2")])
    log.clear()
    outcome = make_edition_for_week(
        database, settings, "2026-W50", datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    )
    assert outcome.action == "held", outcome
    assert "hard bounces" in (outcome.detail or "")
    assert log.log == []
    released = run_cli(config, "editions", "release", str(outcome.edition_id))
    assert released.exit_code == 0, released.output
    sent = run_cli(config, "send", "--resume", str(outcome.edition_id), "--json")
    assert sent.exit_code == 0, sent.output
    gone = {"lezer1@voorbeeld.nl", "lezer2@voorbeeld.nl", "lezer4@voorbeeld.nl",
            "lezer5@voorbeeld.nl", "lezer9@voorbeeld.nl"}  # fmt: skip
    assert log.recipients() == set(readers) - gone
