"""The daemon's two jobs with an injected clock, on SQLite and PostgreSQL, mail to a Maildir.

``make_weekly_edition`` and ``send_due_work`` are called directly with the moment they
should believe it is; everything else is real: the database, the pre-send check, the
delivery engine writing one file per message.
"""

from __future__ import annotations

import logging
import mailbox
import socket
import subprocess
import threading
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from newsletter.cli import cli
from newsletter.config import (
    Settings,
)
from newsletter.db import post_queue
from newsletter.db.database import Database, open_database
from newsletter.db.models import Delivery, DeliveryStatus, Edition, EditionStatus, utcnow
from newsletter.delivery import editions
from newsletter.delivery.engine import SendSummary
from newsletter.runtime import jobs as scheduler
from newsletter.runtime.jobs import WeeklyOutcome, make_weekly_edition, send_due_work
from tests.support.db import add_subscribers
from tests.support.posts import add_post, make_post
from tests.support.settings import OWNER, local, make_settings, relay, utc
from tests.support.smtp import GREYLISTED, Faults, SmtpServer
from tests.support.system import wait_until

READERS = 5


def job_settings(
    database_url: str, outbox: Path, smtp: dict[str, Any] | None = None, **schedule: Any
) -> Settings:
    """The daemon's settings: mail to the ``outbox`` Maildir unless ``smtp`` says otherwise."""
    return make_settings(
        newsletter={"owner_address": OWNER},
        database={"url": database_url},
        smtp=smtp or {"transport": "maildir", "maildir": str(outbox)},
        schedule=schedule,
    )


def outbox_messages(outbox: Path) -> list[Message]:
    if not outbox.exists():
        return []
    box = mailbox.Maildir(outbox, create=False)
    try:
        return [message for _, message in box.items()]
    finally:
        box.close()


def add_posts(database: Database, count: int) -> list[str]:
    return [add_post(database, make_post(f"post-{n}")) for n in range(count)]


def edition_rows(database: Database) -> list[Edition]:
    with database.session() as session:
        rows = list(session.scalars(select(Edition).order_by(Edition.id)))
        session.expunge_all()
        return rows


def sent_count(database: Database, edition_id: int) -> int:
    with database.session() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.edition_id == edition_id, Delivery.status == DeliveryStatus.SENT)
            )
            or 0
        )


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def readers(database: Database) -> list[str]:
    return add_subscribers(database, READERS)


def test_fires_at_seven_local_time_across_both_dst_changes_of_2026(
    database: Database, database_url: str, outbox: Path, readers: list[str]
) -> None:
    settings = job_settings(database_url, outbox)
    add_posts(database, 2)
    # Monday 30 March, the day after clocks go forward: 07:00 local is 05:00 UTC.
    # At 06:59 local (04:59 UTC) the latest slot is last week's, a week old: too late.
    before_spring = make_weekly_edition(database, settings, utc(2026, 3, 30, 4, 59))
    assert before_spring.action == "too late"
    assert before_spring.week_key == "2026-W13"
    at_spring = make_weekly_edition(database, settings, utc(2026, 3, 30, 5, 0, 30))
    assert at_spring == WeeklyOutcome("sent", "2026-W14", at_spring.edition_id, at_spring.detail)
    # Monday 26 October, the day after clocks go back: 07:00 local is 06:00 UTC again.
    before_autumn = make_weekly_edition(database, settings, utc(2026, 10, 26, 5, 30))
    assert before_autumn.action == "too late"
    assert before_autumn.week_key == "2026-W43"
    at_autumn = make_weekly_edition(database, settings, utc(2026, 10, 26, 6, 0, 30))
    assert at_autumn.action == "sent"
    assert at_autumn.week_key == "2026-W44"

    rows = edition_rows(database)
    assert [(row.week_key, row.status) for row in rows] == [
        ("2026-W14", EditionStatus.SENT),
        ("2026-W44", EditionStatus.SENT),
    ]
    messages = outbox_messages(outbox)
    assert len(messages) == 2 * READERS
    assert sorted(m["To"].split("<")[-1].rstrip(">") for m in messages) == sorted(readers * 2)


def test_missed_slot_is_caught_up_inside_the_window_and_skipped_outside(
    database: Database,
    database_url: str,
    outbox: Path,
    readers: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = job_settings(database_url, outbox, catch_up_hours=24)
    add_posts(database, 2)
    # Down from Sunday until Tuesday 06:59: Monday 07:00 is 23 h 59 min ago, still in time.
    caught_up = make_weekly_edition(database, settings, local(2026, 6, 9, 6, 59))
    assert caught_up.action == "sent"
    assert caught_up.week_key == "2026-W24"
    assert len(outbox_messages(outbox)) == READERS

    # The next week the daemon comes back on Tuesday 07:01: 24 h 1 min late is stale.
    with caplog.at_level(logging.WARNING, logger="newsletter.runtime.jobs"):
        stale = make_weekly_edition(database, settings, local(2026, 6, 16, 7, 1))
    assert stale.action == "too late"
    assert stale.week_key == "2026-W25"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("2026-W25" in r.getMessage() and "24 hours" in r.getMessage() for r in warnings), (
        caplog.text
    )
    assert [row.week_key for row in edition_rows(database)] == ["2026-W24"]
    assert len(outbox_messages(outbox)) == READERS


def test_two_scheduled_runs_in_one_week_make_one_edition(
    database: Database, database_url: str, outbox: Path, readers: list[str]
) -> None:
    settings = job_settings(database_url, outbox)
    add_posts(database, 3)
    slot = local(2026, 3, 30, 7, 0)
    moments = [
        slot + timedelta(seconds=1),  # the scheduled run
        slot + timedelta(minutes=5),  # a restart right after
        slot + timedelta(hours=20),  # a restart later that day
        slot + timedelta(hours=23, minutes=59),  # the last moment of the catch-up window
    ]
    outcomes = [make_weekly_edition(database, settings, moment) for moment in moments]
    for moment in moments:
        send_due_work(database, settings, moment)

    assert [o.action for o in outcomes] == ["sent", "already made", "already made", "already made"]
    assert {o.edition_id for o in outcomes} == {outcomes[0].edition_id}
    assert [row.week_key for row in edition_rows(database)] == ["2026-W14"]
    assert len(outbox_messages(outbox)) == READERS


@pytest.mark.postgres
def test_racing_weekly_jobs_on_postgresql_make_one_edition(postgres_url: str, outbox: Path) -> None:
    """Two daemons firing at the same second: the unique week key lets one of them win.

    (On SQLite a second daemon cannot start, so only PostgreSQL sees this race.)
    """
    database = open_database(postgres_url)
    try:
        add_subscribers(database, READERS)
        add_posts(database, 2)
        _race_weekly_jobs(database, job_settings(postgres_url, outbox), outbox)
    finally:
        database.dispose()


def _race_weekly_jobs(database: Database, settings: Settings, outbox: Path) -> None:
    now = local(2026, 3, 30, 7, 0, 1)
    start = threading.Barrier(2)
    outcomes: list[WeeklyOutcome] = []

    def weekly_job() -> None:
        start.wait(timeout=10)
        outcomes.append(make_weekly_edition(database, settings, now))

    threads = [threading.Thread(target=weekly_job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(o.action for o in outcomes) == ["already made", "sent"], outcomes
    assert [row.week_key for row in edition_rows(database)] == ["2026-W14"]
    assert len(outbox_messages(outbox)) == READERS


@pytest.mark.postgres
def test_a_daemon_that_picked_the_same_post_just_before_another_committed_says_already_made(
    postgres_url: str, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loser of the race read the queue before the winner committed, inserted after."""
    database = open_database(postgres_url)
    try:
        add_subscribers(database, READERS)
        add_posts(database, 1)
        settings = job_settings(postgres_url, outbox)
        now = local(2026, 3, 30, 7, 0, 1)
        real_create_edition = editions.create_edition
        winner: list[WeeklyOutcome] = []

        def create_after_the_other_daemon(*args: Any, **kwargs: Any) -> int:
            monkeypatch.setattr("newsletter.delivery.publish.create_edition", real_create_edition)
            winner.append(make_weekly_edition(database, settings, now))
            return real_create_edition(*args, **kwargs)

        monkeypatch.setattr(
            "newsletter.delivery.publish.create_edition", create_after_the_other_daemon
        )
        loser = make_weekly_edition(database, settings, now)

        assert [o.action for o in winner] == ["sent"]
        assert loser == WeeklyOutcome("already made", "2026-W14", winner[0].edition_id)
        assert [row.week_key for row in edition_rows(database)] == ["2026-W14"]
        assert len(outbox_messages(outbox)) == READERS
    finally:
        database.dispose()


def test_empty_queue_makes_no_edition_and_warns(
    database: Database,
    database_url: str,
    outbox: Path,
    readers: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = job_settings(database_url, outbox)
    with caplog.at_level(logging.WARNING, logger="newsletter.runtime.jobs"):
        outcome = make_weekly_edition(database, settings, local(2026, 3, 30, 7, 0, 5))
    assert outcome == WeeklyOutcome("queue empty", "2026-W14")
    assert any(
        r.levelno == logging.WARNING and "queue is empty" in r.getMessage() for r in caplog.records
    ), caplog.text
    assert edition_rows(database) == []
    assert send_due_work(database, settings, local(2026, 3, 30, 8, 0)) == []
    # Only the owner hears of it (the owner-alert tests look at that mail).
    assert [m["To"] for m in outbox_messages(outbox)] == [OWNER]


def test_failing_pre_send_check_holds_the_edition_with_its_reason(
    database: Database,
    database_url: str,
    outbox: Path,
    readers: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = job_settings(database_url, outbox)
    # A public site without https: the List-Unsubscribe check fails, nothing may go out.
    settings = replace(
        settings,
        newsletter=replace(
            settings.newsletter, base_url="http://nieuwsbrief.gerritvanderheide.com"
        ),
    )
    add_posts(database, 2)
    now = local(2026, 3, 30, 7, 0, 5)
    with caplog.at_level(logging.ERROR, logger="newsletter.runtime.jobs"):
        outcome = make_weekly_edition(database, settings, now)

    assert outcome.action == "held"
    assert "List-Unsubscribe" in outcome.detail
    (row,) = edition_rows(database)
    assert row.status == EditionStatus.HELD
    assert row.week_key == "2026-W14"
    assert row.hold_reason and "List-Unsubscribe" in row.hold_reason
    assert any(
        r.levelno == logging.ERROR
        and "held" in r.getMessage()
        and "List-Unsubscribe" in r.getMessage()
        for r in caplog.records
    ), caplog.text
    # Neither the periodic job nor a later run this week sends it or makes another one.
    assert send_due_work(database, settings, now + timedelta(hours=1)) == []
    assert (
        make_weekly_edition(database, settings, now + timedelta(hours=2)).action == "already made"
    )
    assert [m["To"] for m in outbox_messages(outbox)] == [OWNER]  # told once, with the report
    assert sent_count(database, row.id) == 0


def start_review(
    database: Database, database_url: str, outbox: Path
) -> tuple[Settings, datetime, WeeklyOutcome]:
    """Monday 07:00:05 with 30 minutes of review: the weekly job makes a draft edition."""
    settings = job_settings(database_url, outbox, review_minutes=30)
    add_posts(database, 1)
    now = local(2026, 3, 30, 7, 0, 5)
    outcome = make_weekly_edition(database, settings, now)
    assert outcome.action == "review"
    return settings, now, outcome


def test_review_sends_a_test_copy_then_waits_before_the_real_send(
    database: Database, database_url: str, outbox: Path, readers: list[str]
) -> None:
    settings, now, outcome = start_review(database, database_url, outbox)
    assert outcome.edition_id is not None

    (test_copy,) = outbox_messages(outbox)
    assert test_copy["Subject"].startswith("[TEST] ")
    assert OWNER in test_copy["To"]
    (row,) = edition_rows(database)
    assert row.status == EditionStatus.DRAFT
    assert row.send_after == now + timedelta(minutes=30)

    assert send_due_work(database, settings, now + timedelta(minutes=29)) == []
    assert len(outbox_messages(outbox)) == 1
    (summary,) = send_due_work(database, settings, now + timedelta(minutes=31))
    assert summary.status == "sent"
    assert summary.sent == READERS
    received = [m for m in outbox_messages(outbox) if OWNER not in m["To"]]
    assert len(received) == READERS
    assert not any(m["Subject"].startswith("[TEST]") for m in received)
    assert send_due_work(database, settings, now + timedelta(minutes=32)) == []


def test_an_edition_cancelled_during_review_is_never_sent(
    database: Database, database_url: str, outbox: Path, readers: list[str]
) -> None:
    settings, now, outcome = start_review(database, database_url, outbox)

    result = CliRunner().invoke(
        cli,
        ["editions", "cancel", str(outcome.edition_id)],
        env={"NEWSLETTER_DATABASE__URL": database_url, "NEWSLETTER_CONFIG": ""},
    )
    assert result.exit_code == 0, result.output
    assert "cancelled" in result.output

    assert send_due_work(database, settings, now + timedelta(minutes=31)) == []
    assert make_weekly_edition(database, settings, now + timedelta(minutes=32)).action == (
        "already made"
    )
    (test_copy,) = outbox_messages(outbox)
    assert test_copy["Subject"].startswith("[TEST] ")
    with database.session() as session:
        info = editions.describe_edition(session, outcome.edition_id or 0)
    assert info.status == EditionStatus.CANCELLED
    assert info.counts["sent"] == 0
    assert info.counts["skipped"] == READERS


def test_due_work_resumes_an_interrupted_send(
    database: Database, database_url: str, outbox: Path, readers: list[str]
) -> None:
    """The start-up job finishes what a previous run left in ``sending``."""
    settings = job_settings(database_url, outbox)
    add_posts(database, 1)
    stop = threading.Event()
    stop.set()  # the daemon was told to stop before it claimed anything
    outcome = make_weekly_edition(database, settings, local(2026, 3, 30, 7, 0, 5), stop=stop)
    assert outcome.action == "sent"
    assert outbox_messages(outbox) == []
    (row,) = edition_rows(database)
    assert row.status == EditionStatus.SENDING

    (summary,) = send_due_work(database, settings, local(2026, 3, 30, 7, 10))
    assert summary.status == "sent"
    assert summary.sent == READERS
    assert len(outbox_messages(outbox)) == READERS


def test_a_retry_due_on_the_jobs_clock_is_sent_by_that_job(
    database: Database, database_url: str, outbox: Path, readers: list[str]
) -> None:
    """The send runs on the job's ``now``: a deferral written at a slot years ahead of the
    wall clock is due ten minutes later on that clock (it was never sent when the engine
    claimed and wrote retry times on the wall clock while the job looked at ``now``)."""
    greylisted = readers[0]
    with SmtpServer(Faults(rcpt_script={greylisted: [GREYLISTED]})) as server:
        settings = job_settings(database_url, outbox, smtp=relay(server.port))
        add_posts(database, 1)
        slot = local(2030, 3, 25, 7, 0, 5)
        outcome = make_weekly_edition(database, settings, slot)
        assert outcome.action == "sent"
        assert server.handler.per_address()[greylisted] == 0

        (summary,) = send_due_work(database, settings, slot + timedelta(minutes=10))
        assert summary.sent == 1
        assert server.handler.per_address()[greylisted] == 1


@pytest.mark.parametrize("posts_left", [1, 2])
def test_a_job_that_checked_just_before_another_daemon_made_the_edition_says_already_made(
    database: Database,
    database_url: str,
    outbox: Path,
    readers: list[str],
    posts_left: int,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Its "made yet?" check ran before the other daemon committed; its insert after."""
    settings = job_settings(database_url, outbox)
    slugs = add_posts(database, posts_left)
    now = local(2026, 3, 30, 7, 0, 5)
    made = make_weekly_edition(database, settings, now)
    assert made.action == "sent"

    real_check = scheduler._edition_of_week
    calls: list[str] = []

    def check_that_ran_too_early(database: Database, key: str) -> int | None:
        calls.append(key)
        return None if len(calls) == 1 else real_check(database, key)

    monkeypatch.setattr(scheduler, "_edition_of_week", check_that_ran_too_early)
    with caplog.at_level(logging.INFO, logger="newsletter.runtime.jobs"):
        late = make_weekly_edition(database, settings, now + timedelta(seconds=2))

    assert late.action == "already made"
    assert late.week_key == "2026-W14"
    assert "queue is empty" not in caplog.text
    assert [row.week_key for row in edition_rows(database)] == ["2026-W14"]
    with database.session() as session:
        next_post = post_queue.next_unsent(session)
        assert (next_post.slug if next_post else None) == (slugs[1] if posts_left > 1 else None)
    assert len(outbox_messages(outbox)) == READERS


def test_due_work_during_a_long_send_of_the_same_edition_leaves_it_to_that_send(
    database: Database, database_url: str, outbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The periodic job fires while the start-up job still sends: no error, no second send."""
    readers = 1000  # more than the two batches the first send claims ahead
    addresses = add_subscribers(database, readers)
    add_posts(database, 1)
    server = SmtpServer(Faults(data_seconds=0.01)).start()
    try:
        settings = job_settings(database_url, outbox, smtp=relay(server.port, timeout=30.0))
        now = local(2026, 3, 30, 7, 0, 5)
        with database.session() as session:
            post = post_queue.next_unsent(session)
            assert post is not None
            edition_id = editions.create_edition(session, post, "Onderwerp", week_key="2026-W14")
        first_job: list[list[SendSummary]] = []
        long_send = threading.Thread(
            target=lambda: first_job.append(send_due_work(database, settings, now))
        )
        long_send.start()
        try:
            wait_until(lambda: server.handler.count() >= 20, timeout=30, what="the first send")
            with caplog.at_level(logging.WARNING):
                assert send_due_work(database, settings, now + timedelta(minutes=1)) == []
            assert server.handler.count() < readers, "the first send ended too soon to test"
        finally:
            long_send.join(timeout=60)
        assert not caplog.records, caplog.text
        ((summary,),) = first_job
        assert summary.edition_id == edition_id
        assert summary.status == "sent"
        assert server.handler.per_address() == Counter(dict.fromkeys(addresses, 1))
    finally:
        server.stop()


def test_the_start_up_job_takes_back_claims_of_a_dead_run_but_not_of_a_live_one(
    database: Database, database_url: str, outbox: Path, readers: list[str]
) -> None:
    """Claims under lease held by a process that is gone are sent at start, not in 10 min."""
    settings = job_settings(database_url, outbox)
    add_posts(database, 1)
    with database.session() as session:
        post = post_queue.next_unsent(session)
        assert post is not None
        edition_id = editions.create_edition(session, post, "Onderwerp", week_key="2026-W14")
        session.get_one(Edition, edition_id).status = EditionStatus.SENDING
    now = utcnow()

    def claim_everything_as(pid: int) -> None:
        with database.session() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.edition_id == edition_id)
                .values(
                    status=DeliveryStatus.SENDING,
                    claimed_by=f"{socket.gethostname()}:{pid}",
                    claimed_at=now,
                )
            )

    with subprocess.Popen(["sleep", "60"]) as live_daemon:
        try:
            claim_everything_as(live_daemon.pid)
            (summary,) = send_due_work(database, settings, now, at_start=True)
            assert summary.sent == 0, "took rows from a daemon that is still running"
        finally:
            live_daemon.kill()
    assert outbox_messages(outbox) == []

    with subprocess.Popen(["true"]) as dead_daemon:
        pass  # waited for on leaving the block: its pid is now free
    claim_everything_as(dead_daemon.pid)
    assert send_due_work(database, settings, now) == [], "the lease has not lapsed yet"
    (summary,) = send_due_work(database, settings, now, at_start=True)
    assert summary.sent == READERS
    assert summary.status == "sent"
    assert len(outbox_messages(outbox)) == READERS


def test_an_undelivered_review_copy_holds_the_edition(
    database: Database,
    database_url: str,
    tmp_path: Path,
    readers: list[str],
    smtp_server: SmtpServer,
    faults: Faults,
) -> None:
    # The relay works (an edition may be made) but refuses the owner's review copy.
    faults.rcpt_replies[OWNER] = "550 5.1.1 <owner>: Recipient address rejected"
    settings = job_settings(
        database_url, tmp_path / "outbox", relay(smtp_server.port), review_minutes=30
    )
    add_posts(database, 1)
    now = local(2026, 3, 30, 7, 0, 5)
    outcome = make_weekly_edition(database, settings, now)
    assert outcome.action == "held"
    (row,) = edition_rows(database)
    assert row.status == EditionStatus.HELD
    assert row.hold_reason is not None and "[TEST] copy" in row.hold_reason
    # Nobody reviewed it, so the end of the review window sends nothing.
    assert send_due_work(database, settings, now + timedelta(hours=1)) == []
