"""The returns limits: an edition past them gets one owner mail through the test relay and
holds the next weekly edition until released, whether its hard bounces came back late or
were refused by the relay during the send; ``editions show`` and ``bounces list`` count
it all."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from newsletter.config import BouncesSection, ScheduleSection
from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.db.models import BounceReport, Edition, OwnerAlert, Subscriber, utcnow
from newsletter.delivery import editions
from newsletter.returns.apply import process_message
from newsletter.returns.limits import check_limits
from newsletter.returns.report import edition_returns
from newsletter.runtime.jobs import make_edition_for_week, send_due_work
from newsletter.runtime.owner_mail import mail_pending_alerts
from tests.support.cli import NewsletterCli
from tests.support.db import add_subscribers, new_edition
from tests.support.posts import add_post, make_post
from tests.support.returned import (
    bounce_env,
    bounce_settings,
    forget_received,
    recipients_of,
    returned,
    send_next,
    status_of,
)
from tests.support.settings import OWNER
from tests.support.smtp import Faults, SmtpServer


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
        ("lezer3@voorbeeld.nl", "postfix_mailbox_full.eml"),
        ("lezer4@voorbeeld.nl", "yahoo_arf.eml"),
    ):
        raw = returned(smtp_server, database, first, reader, name)
        assert process_message(database, settings, raw, source="test").result != "ignored"
    # The reports record the alert; the owner-mail sender (the daemon's next look) mails it.
    mail_pending_alerts(database, settings, utcnow())
    owner_mails = [mail for mail in smtp_server.handler.received if OWNER in mail.recipients]
    assert len(owner_mails) == 1
    assert owner_mails[0].message["Subject"] == (
        "Nieuwsbrief: te veel bounces of klachten bij editie 1"
    )
    assert "Spamklachten: 1 (2,5%; grens 0,3%)" in owner_mails[0].text()
    raw = returned(smtp_server, database, first, "lezer5@voorbeeld.nl", "exim_hard.eml")
    process_message(database, settings, raw, source="test")
    mail_pending_alerts(database, settings, utcnow())
    # 3 hard of 40 now pass their limit too: told once more, with both figures
    owner_mails = [mail for mail in smtp_server.handler.received if OWNER in mail.recipients]
    assert len(owner_mails) == 2
    assert "Harde bounces: 3 (7,5%; grens 5%)" in owner_mails[1].text()

    numbers = json.loads(cli.ok("editions", "show", str(first), "--json", **env))
    assert numbers["bounces"] == {"hard": 3, "soft": 1, "suspect": 0}
    assert numbers["sender"] == 0
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


def _edition_ready(database: Database, slug: str) -> int:
    """An edition of post ``slug`` the weekly job made and nobody sent yet."""
    add_post(database, make_post(slug, f"Rust vinden ({slug})"))
    with database.session() as session:
        row = post_queue.get(session, slug)
        assert row is not None
        return editions.create_edition(session, row, row.title, week_key="2026-W50")


@pytest.mark.parametrize("door", ["send --resume", "due work"])
def test_addresses_the_relay_refuses_during_the_send_count_towards_the_limit_too(
    database: Database,
    database_url: str,
    smtp_server: SmtpServer,
    faults: Faults,
    tmp_path: Path,
    door: str,
) -> None:
    """Both doors that send check the limits afterwards: the CLI and the daemon's job."""
    add_subscribers(database, 20)
    for reader in ("lezer3@voorbeeld.nl", "lezer7@voorbeeld.nl"):  # 2 of 20: 10 % > 5 %
        faults.rcpt_replies[reader] = "550 5.1.1 <unknown>: Recipient address rejected"
    edition_id = _edition_ready(database, "rust")
    if door == "send --resume":
        cli = NewsletterCli(database_url, tmp_path)
        cli.ok("send", "--resume", str(edition_id), **bounce_env(smtp_server.port))
    else:
        settings = bounce_settings(database_url, smtp_server.port)
        (summary,) = send_due_work(database, settings, utcnow())
        assert summary.status == "sent", summary

    owner_mails = [mail for mail in smtp_server.handler.received if OWNER in mail.recipients]
    assert len(owner_mails) == 1
    assert "Harde bounces: 2 (10,0%; grens 5%)" in owner_mails[0].text()
    assert status_of(database, "lezer3@voorbeeld.nl") == "bounced"
    with database.session() as session:
        assert edition_returns(session, edition_id).hard == 2


def test_complaints_passing_their_limit_after_the_hard_bounces_alert_are_told_too(
    database: Database,
) -> None:
    edition_id, readers = new_edition(database, 40)
    limits = BouncesSection()  # hard 5 %, complaints 0.3 %
    with database.session() as session:
        ids = {
            email: sid for email, sid in session.execute(select(Subscriber.email, Subscriber.id))
        }
        session.execute(update(Edition).where(Edition.id == edition_id).values(recipients=40))

    def report(n: int, result: str) -> None:
        with database.session() as session:
            session.add(
                BounceReport(
                    fingerprint=f"{n:064d}",
                    part=0,
                    source="test",
                    result=result,
                    reason="userunknown" if result == "hard" else "abuse",
                    diagnostic="",
                    domain="voorbeeld.nl",
                    subscriber_id=ids[readers[n]],
                    edition_id=edition_id,
                )
            )

    def check() -> bool:
        with database.session() as session:
            return check_limits(session, limits, edition_id)

    for n in range(3):  # 3 of 40 hard: 7.5 % > 5 %
        report(n, "hard")
    assert check()
    assert not check()  # the same limits again: told once
    report(3, "complaint")  # 2.5 % > 0.3 %: a limit not told yet
    assert check()
    report(4, "complaint")
    assert not check()
    with database.session() as session:
        causes = session.scalars(select(OwnerAlert.cause).order_by(OwnerAlert.id)).all()
    assert causes == [f"returns:{edition_id}:hard", f"returns:{edition_id}:hard+complaints"]
