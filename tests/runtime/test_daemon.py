"""A real ``newsletter run`` process against a real SMTP server (aiosmtpd in this process).

The schedule is a crontab whose only slot this year was two minutes ago, so every start
of the daemon finds a due slot within ``catch_up_hours``: the first start sends the
edition, a restart in the same week must find it already made.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from newsletter.content.post import Post
from newsletter.db.database import open_database
from newsletter.db.models import Edition
from newsletter.delivery.send_loop import SendOptions
from tests.support.daemons import (
    STOP_DEADLINE_SECONDS,
    Daemon,
    DaemonRunner,
    RunnerFactory,
)
from tests.support.db import add_subscribers
from tests.support.posts import add_post, make_post
from tests.support.smtp import Faults, SmtpServer
from tests.support.system import wait_until

IN_FLIGHT_BOUND = 2 * SendOptions().batch_size


def prepare(database_url: str, readers: int, posts: int = 1) -> list[str]:
    database = open_database(database_url)
    try:
        addresses = add_subscribers(database, readers)
        for n in range(posts):
            add_post(database, queued_post(n))
        return addresses
    finally:
        database.dispose()


def queued_post(n: int) -> Post:
    return make_post(f"week-post-{n}")


def edition_status(database_url: str) -> list[tuple[str | None, str]]:
    database = open_database(database_url)
    try:
        with database.session() as session:
            return [
                (row.week_key, row.status)
                for row in session.scalars(select(Edition).order_by(Edition.id))
            ]
    finally:
        database.dispose()


def wait_for_sending(server: SmtpServer, messages: int, daemon: Daemon) -> None:
    """Until the relay has ``messages`` messages of the daemon's send."""
    wait_until(
        lambda: server.handler.count() >= messages,
        timeout=60,
        what=f"the send to start\n{daemon.output()}",
    )


def restart_until_sent(
    runner: DaemonRunner, database_url: str, week_key: str | None, timeout: float = 90
) -> Daemon:
    """Start the daemon again and wait until it has finished the interrupted edition."""
    restarted = runner.start()
    wait_until(
        lambda: edition_status(database_url) == [(week_key, "sent")],
        timeout=timeout,
        what=f"the resumed edition to be sent\n{restarted.output()}",
    )
    return restarted


def test_daemon_sends_the_due_edition_once_and_a_restart_sends_nothing_new(
    database_url: str, runner_factory: RunnerFactory
) -> None:
    readers = 40
    addresses = prepare(database_url, readers)
    server = SmtpServer().start()
    try:
        runner: DaemonRunner = runner_factory(database_url, server.port)
        daemon = runner.start()
        daemon.wait_healthy()
        status, body = daemon.get("/healthz")
        assert status == 200
        assert json.loads(body) == {"database": "ok", "scheduler": "ok"}

        wait_until(
            lambda: server.handler.count() >= readers,
            timeout=60,
            what=f"{readers} messages\n{daemon.output()}",
        )
        daemon.wait_for_log("weekly edition")
        assert daemon.get("/healthz")[0] == 200, "the web app must answer while the daemon runs"
        seconds = daemon.stop()
        assert seconds < STOP_DEADLINE_SECONDS
        assert "stopped" in daemon.stderr
        assert server.handler.per_address() == Counter(dict.fromkeys(addresses, 1))
        ((week_key, status_after),) = edition_status(database_url)
        assert status_after == "sent"

        restarted = runner.start()
        restarted.wait_for_log(f"weekly edition {week_key}: already made")
        restarted.wait_healthy()
        restarted.stop()
        assert server.handler.count() == readers, "a restart in the same week sent again"
        assert edition_status(database_url) == [(week_key, "sent")]
    finally:
        server.stop()


def test_restart_after_sigkill_mid_send_resumes_without_loss(
    database_url: str, runner_factory: RunnerFactory
) -> None:
    readers = 2000
    addresses = prepare(database_url, readers)
    server = SmtpServer(Faults(data_seconds=0.01)).start()  # about 400 messages a second
    try:
        runner: DaemonRunner = runner_factory(database_url, server.port)
        daemon = runner.start()
        wait_for_sending(server, 150, daemon)
        daemon.kill()
        received_before_restart = server.handler.count()
        assert received_before_restart < readers, "killed too late to test anything"
        ((week_key, status_after_kill),) = edition_status(database_url)
        assert status_after_kill == "sending"

        restarted = restart_until_sent(runner, database_url, week_key)
        restarted.wait_for_log(f"weekly edition {week_key}: already made")
        restarted.stop()

        received = server.handler.per_address()
        assert set(received) == set(addresses), "a subscriber was lost"
        duplicates = sum(count - 1 for count in received.values())
        assert duplicates <= IN_FLIGHT_BOUND, duplicates
    finally:
        server.stop()


def test_sigterm_mid_send_stops_in_time_and_a_restart_finishes_exactly_once(
    tmp_path: Path, runner_factory: RunnerFactory
) -> None:
    """A graceful stop records what was in flight and gives the rest back: no duplicates."""
    database_url = f"sqlite:///{tmp_path}/newsletter.db"
    readers = 800
    addresses = prepare(database_url, readers)
    server = SmtpServer(Faults(data_seconds=0.01)).start()
    try:
        runner: DaemonRunner = runner_factory(database_url, server.port)
        daemon = runner.start()
        wait_for_sending(server, 100, daemon)
        daemon.stop()
        assert server.handler.count() < readers, "stopped too late to test anything"
        ((week_key, status_after_stop),) = edition_status(database_url)
        assert status_after_stop == "sending"

        restarted = restart_until_sent(runner, database_url, week_key)
        restarted.stop()
        assert server.handler.per_address() == Counter(dict.fromkeys(addresses, 1))
    finally:
        server.stop()


def test_sigterm_while_the_relay_hangs_still_exits_in_time_and_nothing_is_lost(
    tmp_path: Path, runner_factory: RunnerFactory
) -> None:
    """A message stuck in DATA must not hold the daemon past the stop deadline."""
    database_url = f"sqlite:///{tmp_path}/newsletter.db"
    readers = 20
    addresses = prepare(database_url, readers)
    server = SmtpServer(Faults(data_seconds=300)).start()
    handler = server.handler
    try:
        runner: DaemonRunner = runner_factory(database_url, server.port)
        daemon = runner.start(NEWSLETTER_SMTP__TIMEOUT="60")
        wait_until(lambda: handler.in_data >= 1, timeout=60, what=f"a send\n{daemon.output()}")
        seconds = daemon.stop()
        assert seconds < STOP_DEADLINE_SECONDS
        wait_until(lambda: handler.in_data == 0, timeout=10, what="the hung-up connections")
        assert handler.count() == 0
        ((week_key, status_after_stop),) = edition_status(database_url)
        assert status_after_stop == "sending"

        handler.faults.data_seconds = 0  # the relay is back
        restarted = restart_until_sent(runner, database_url, week_key, timeout=60)
        restarted.stop()
        assert handler.per_address() == Counter(dict.fromkeys(addresses, 1))
    finally:
        server.stop()


def test_a_second_daemon_on_sqlite_refuses_to_start(
    tmp_path: Path, runner_factory: RunnerFactory
) -> None:
    database_url = f"sqlite:///{tmp_path}/newsletter.db"
    prepare(database_url, 3)
    server = SmtpServer().start()
    try:
        runner: DaemonRunner = runner_factory(database_url, server.port)
        first = runner.start()
        first.wait_healthy()

        second = runner.start()
        code = second.process.wait(timeout=30)
        assert code != 0
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.output()
        assert lines[0].startswith("error: another `newsletter run` already uses ")
        assert f"{tmp_path}/newsletter.db" in lines[0]
        assert "PostgreSQL" in lines[0]

        first.assert_alive()
        first.stop()
    finally:
        server.stop()


def test_run_once_sends_the_due_edition_and_status_reports_it(
    tmp_path: Path, runner_factory: RunnerFactory
) -> None:
    database_url = f"sqlite:///{tmp_path}/newsletter.db"
    readers = 6
    prepare(database_url, readers, posts=2)
    later = "lezer3@voorbeeld.nl"
    server = SmtpServer(Faults(rcpt_replies={later: "451 4.3.0 Probeer het later"})).start()
    try:
        runner: DaemonRunner = runner_factory(database_url, server.port)
        once = runner.command("run", "--once")
        assert once.returncode == 0, once.stderr
        ((week_key, edition_state),) = edition_status(database_url)
        assert once.stdout.startswith(f"week {week_key}: sent")
        assert edition_state == "sending"  # one reader is deferred, so not done yet
        assert server.handler.count() == readers - 1

        info = runner.status()
        local_next = datetime.fromisoformat(info["next_run"]["local"])
        utc_next = datetime.fromisoformat(info["next_run"]["utc"])
        assert local_next == utc_next
        assert utc_next.utcoffset() == timedelta(0)
        assert local_next.utcoffset() in (timedelta(hours=1), timedelta(hours=2))
        assert info["next_run"]["timezone"] == "Europe/Amsterdam"
        assert info["queue"] == {"queued": 1, "skipped": 0, "sent": 1, "next": "week-post-1"}
        assert info["edition"]["status"] == "sending"
        assert info["edition"]["counts"]["sent"] == readers - 1
        assert info["edition"]["counts"]["deferred"] == 1
        assert info["deferred_backlog"] == 1
        assert info["daemons_running"] == 0

        again = runner.command("run", "--once")
        assert again.returncode == 0, again.stderr
        assert again.stdout.startswith(f"week {week_key}: already made")
        assert server.handler.count() == readers - 1

        daemon = runner.start()
        daemon.wait_for_log(f"weekly edition {week_key}: already made")
        assert runner.status()["daemons_running"] == 1
        daemon.stop()
        assert runner.status()["daemons_running"] == 0
    finally:
        server.stop()


def test_json_log_format_writes_one_json_object_per_line(
    tmp_path: Path, runner_factory: RunnerFactory
) -> None:
    database_url = f"sqlite:///{tmp_path}/newsletter.db"
    prepare(database_url, 3)
    server = SmtpServer().start()
    try:
        runner: DaemonRunner = runner_factory(database_url, server.port)
        daemon = runner.start("--log-format", "json")
        wait_until(lambda: server.handler.count() >= 3, timeout=60, what=daemon.output())
        daemon.wait_for_log("weekly edition")
        daemon.wait_healthy()
        daemon.stop()
        lines = daemon.stderr.splitlines()
        assert len(lines) >= 5, daemon.output()
        for line in lines:
            entry = json.loads(line)
            assert {"time", "level", "message"} <= set(entry), line
            datetime_text = entry["time"]
            assert datetime_text.endswith("+00:00"), line
        messages = [json.loads(line)["message"] for line in lines]
        assert any(m.startswith("newsletter running") for m in messages)
        assert any(m.startswith("weekly edition") for m in messages)
        assert messages[-1] == "stopped"
    finally:
        server.stop()
