"""What late bounces and complaints do, and what the owner sees: every edition message
has its own signed return path, soft bounces are counted over editions, an edition past
the limits gets one owner mail through the test relay and holds the next weekly edition
until released; ``editions show`` and ``bounces list`` count it all."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update

from newsletter.config import ScheduleSection
from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.db.models import Delivery, utcnow
from newsletter.delivery import editions
from newsletter.delivery.bounces import edition_returns, process_message
from newsletter.delivery.engine import send_edition
from newsletter.delivery.ledger import message_ids
from newsletter.mail.verp import ReturnPaths
from newsletter.scheduling.jobs import make_edition_for_week
from tests.support.cli import NewsletterCli
from tests.support.db import add_subscribers
from tests.support.posts import add_post, make_post
from tests.support.returned import (
    BOUNCES,
    bounce_env,
    bounce_settings,
    delivery_of,
    forget_received,
    recipients_of,
    returned,
    send_next,
    status_of,
)
from tests.support.settings import OWNER, SECRET, SENDER
from tests.support.smtp import Faults, SmtpServer


def test_every_message_has_its_own_signed_return_path_and_an_unchanged_from(
    database: Database, database_url: str, smtp_server: SmtpServer
) -> None:
    add_subscribers(database, 3)
    edition_id = send_next(database, bounce_settings(database_url, smtp_server.port), "rust")
    paths = ReturnPaths(BOUNCES, SECRET)
    received = smtp_server.handler.received
    assert len(received) == 3
    ids = message_ids(bounce_settings(database_url, smtp_server.port))
    for mail in received:
        (reader,) = mail.recipients
        delivery = delivery_of(database, edition_id, reader)
        assert mail.sender == paths.for_delivery(delivery.id)
        assert mail.message["From"].addresses[0].addr_spec == SENDER
        # The ledger recorded the very Message-ID the message carries, signed for its reader.
        assert mail.message["Message-ID"] == delivery.message_id
        assert ids.read(delivery.message_id) == (edition_id, delivery.subscriber_id)


def test_soft_bounces_in_three_of_the_last_five_editions_make_a_reader_bounced(
    database: Database, database_url: str, smtp_server: SmtpServer
) -> None:
    settings = bounce_settings(database_url, smtp_server.port)
    add_subscribers(database, 3)
    reader = "lezer1@voorbeeld.nl"
    for number in range(3):
        edition_id = send_next(database, settings, f"week-{number}")
        raw = returned(smtp_server, database, edition_id, reader, "postfix_delayed.eml")
        assert process_message(database, settings, raw, source="test").result == "soft"
        # a second soft report for the same edition does not count twice
        other = returned(smtp_server, database, edition_id, reader, "microsoft_mailbox_full.eml")
        process_message(database, settings, other, source="test")
        assert status_of(database, reader) == ("bounced" if number == 2 else "active"), number


def test_counts_list_alert_and_the_held_next_edition(
    database: Database, database_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    readers = add_subscribers(database, 40)
    settings = dataclasses.replace(
        bounce_settings(database_url, smtp_server.port),
        schedule=ScheduleSection(review_minutes=0),
    )
    cli = NewsletterCli(database_url, tmp_path)
    env = bounce_env(smtp_server.port)
    first = send_next(database, settings, "week-1")
    cli.ok("subscribers", "remove", "lezer9@voorbeeld.nl", **env)

    # 2 hard bounces of 40 are 5 %, not past it; a complaint (2.5 % > 0.3 %) is.
    for reader, name in (
        ("lezer1@voorbeeld.nl", "gmail_hard.eml"),
        ("lezer2@voorbeeld.nl", "postfix_hard.eml"),
        ("lezer3@voorbeeld.nl", "postfix_delayed.eml"),
        ("lezer4@voorbeeld.nl", "yahoo_arf.eml"),
    ):
        raw = returned(smtp_server, database, first, reader, name)
        assert process_message(database, settings, raw, source="test").result != "ignored"
    owner_mails = [mail for mail in smtp_server.handler.received if OWNER in mail.recipients]
    assert len(owner_mails) == 1
    assert owner_mails[0].message["Subject"] == (
        "Nieuwsbrief: te veel bounces of klachten bij editie 1"
    )
    assert "Spamklachten: 1 (2.5%; grens 0.3%)" in owner_mails[0].text()
    raw = returned(smtp_server, database, first, "lezer5@voorbeeld.nl", "exim_hard.eml")
    process_message(database, settings, raw, source="test")
    assert sum(OWNER in mail.recipients for mail in smtp_server.handler.received) == 1

    numbers = json.loads(cli.ok("editions", "show", str(first), "--json", **env))
    assert numbers["bounces"] == {"hard": 3, "soft": 1}
    assert (numbers["complaints"], numbers["unsubscribes"]) == (1, 1)
    listed = json.loads(cli.ok("bounces", "list", "--json", **env))
    assert [item["result"] for item in listed] == ["hard", "complaint", "soft", "hard", "hard"]
    table = cli.ok("bounces", "list", **env)
    assert "lezer5@voorbeeld.nl" in table and "complaint" in table

    # The next weekly edition is made, but held until the owner releases it.
    add_post(database, make_post("week-2"))
    forget_received(smtp_server)
    outcome = make_edition_for_week(
        database, settings, "2026-W50", datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    )
    assert outcome.action == "held", outcome
    assert "hard bounces" in outcome.detail
    # No reader got it; the owner is told once that it waits for them (issue 13's alert).
    assert [mail.recipients for mail in smtp_server.handler.received] == [[OWNER]]
    forget_received(smtp_server)
    cli.ok("editions", "release", str(outcome.edition_id), **env)
    cli.fails("editions", "release", str(outcome.edition_id), **env)
    cli.ok("send", "--resume", str(outcome.edition_id), "--json", **env)
    gone = {f"lezer{n}@voorbeeld.nl" for n in (1, 2, 4, 5, 9)}
    assert recipients_of(smtp_server) == set(readers) - gone


def test_addresses_the_relay_refuses_during_the_send_count_towards_the_limit_too(
    database: Database, database_url: str, smtp_server: SmtpServer, faults: Faults
) -> None:
    add_subscribers(database, 20)
    for reader in ("lezer3@voorbeeld.nl", "lezer7@voorbeeld.nl"):  # 2 of 20: 10 % > 5 %
        faults.rcpt_replies[reader] = "550 5.1.1 <unknown>: Recipient address rejected"
    edition_id = send_next(database, bounce_settings(database_url, smtp_server.port), "rust")

    owner_mails = [mail for mail in smtp_server.handler.received if OWNER in mail.recipients]
    assert len(owner_mails) == 1
    assert "Harde bounces: 2 (10.0%; grens 5%)" in owner_mails[0].text()
    assert status_of(database, "lezer3@voorbeeld.nl") == "bounced"
    with database.session() as session:
        assert edition_returns(session, edition_id).hard == 2


def test_editions_show_counts_hard_only_for_addresses_that_do_not_exist(
    database: Database, database_url: str, smtp_server: SmtpServer, faults: Faults, tmp_path: Path
) -> None:
    """One reader refused for good (550 5.1.1), one bounced by the ledger's soft-bounce rule
    (451 on every retry): both are ``bounced``, one is a hard bounce."""
    add_subscribers(database, 5)
    faults.rcpt_replies["lezer1@voorbeeld.nl"] = "550 5.1.1 <unknown>: Recipient address rejected"
    faults.rcpt_script["lezer2@voorbeeld.nl"] = ["451 4.3.0 Temporary local problem"] * 8
    settings = dataclasses.replace(
        bounce_settings(database_url, smtp_server.port),
        smtp=dataclasses.replace(
            bounce_settings(database_url, smtp_server.port).smtp,
            retry_first_minutes=0.001,
            retry_max_hours=0.0001,
        ),
    )
    add_post(database, make_post("rust"))
    with database.session() as session:
        row = post_queue.get(session, "rust")
        assert row is not None
        edition_id = editions.create_edition(session, row, row.title)
    for _ in range(8):
        if send_edition(database, settings, edition_id).status == "sent":
            break
        with database.session() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.edition_id == edition_id, Delivery.status == "deferred")
                .values(next_attempt_at=utcnow())
            )
    else:
        raise AssertionError("the edition did not finish")
    assert status_of(database, "lezer1@voorbeeld.nl") == "bounced"
    assert status_of(database, "lezer2@voorbeeld.nl") == "bounced"

    cli = NewsletterCli(database_url, tmp_path)
    numbers = json.loads(
        cli.ok("editions", "show", str(edition_id), "--json", **bounce_env(smtp_server.port))
    )
    assert numbers["bounces"]["hard"] == 1
