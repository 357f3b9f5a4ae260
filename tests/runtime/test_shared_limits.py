"""Limits shared by every sender: real ``newsletter send --resume`` processes on one
database, a real aiosmtpd relay that notes when each message arrived."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from newsletter.config import load_settings
from newsletter.db.database import open_database
from newsletter.db.models import utcnow
from newsletter.delivery.engine import send_edition
from newsletter.delivery.send_loop import SendOptions
from newsletter.runtime.jobs import send_due_work
from tests.support.daemons import RunnerFactory
from tests.support.db import assert_states_add_up, new_edition_at
from tests.support.smtp import Faults, SmtpServer


def test_three_senders_together_keep_one_per_second_limit(
    postgres_url: str, runner_factory: RunnerFactory
) -> None:
    edition_id, addresses = new_edition_at(postgres_url, 600)
    server = SmtpServer(Faults(pipelining=True)).start()
    try:
        runner = runner_factory(
            postgres_url, server.port, extra_env={"NEWSLETTER_SMTP__MAX_PER_SECOND": "20"}
        )
        senders = [runner.spawn("send", "--resume", str(edition_id), "--json") for _ in range(3)]
        outputs = [sender.communicate(timeout=120) for sender in senders]
    finally:
        server.stop()
    assert [sender.returncode for sender in senders] == [0, 0, 0], outputs
    summaries = [json.loads(out) for out, _ in outputs]
    assert sum(summary["sent"] for summary in summaries) == 600
    assert all(summary["sent"] > 0 for summary in summaries), "a sender sat idle"
    server.handler.assert_each_got_one(addresses)
    times = sorted(server.handler.accepted_at)
    combined = (len(times) - 1) / (times[-1] - times[0])
    assert combined <= 20.4, f"{combined:.2f} msgs/s together, limit 20"
    database = open_database(postgres_url)
    try:
        assert assert_states_add_up(database, edition_id)["sent"] == 600
    finally:
        database.dispose()


def test_a_spent_daily_limit_makes_the_rest_wait_for_the_next_day(
    database_url: str, runner_factory: RunnerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    edition_id, addresses = new_edition_at(database_url, 500)
    server = SmtpServer(Faults(pipelining=True)).start()
    try:
        runner = runner_factory(
            database_url, server.port, extra_env={"NEWSLETTER_SMTP__MAX_PER_DAY": "300"}
        )
        sent = runner.command("send", "--resume", str(edition_id))
        assert sent.returncode == 0, sent.stderr
        assert "sent 300," in sent.stdout
        assert "waiting for the daily limit until" in sent.stdout
        assert server.handler.count() == 300
        database = open_database(database_url)
        try:
            tally = assert_states_add_up(database, edition_id)
            assert (tally["sent"], tally["waiting"]) == (300, 200)

            shown = runner.command("editions", "show", str(edition_id))
            assert shown.returncode == 0, shown.stderr
            assert "200 messages, waiting for the daily limit until" in shown.stdout
            status = runner.status()
            assert status["edition"]["waiting"]["limit"] == "daily"
            again = runner.command("send", "--resume", str(edition_id), "--json")
            assert again.returncode == 0 and json.loads(again.stdout)["sent"] == 0
            assert json.loads(again.stdout)["waiting"]["limit"] == "daily"

            # The daemon's due-work job (every minute) leaves the edition alone, quietly.
            settings = load_settings(environ=runner.env())
            with caplog.at_level(logging.INFO, logger="newsletter"):
                assert send_due_work(database, settings, utcnow()) == []
                assert send_due_work(database, settings, utcnow() + timedelta(minutes=1)) == []
            assert caplog.records == []
            assert assert_states_add_up(database, edition_id)["waiting"] == 200

            # The next day (an injected clock): the window has room again.
            tomorrow = SendOptions(clock=lambda: utcnow() + timedelta(days=1, minutes=2))
            summary = send_edition(database, settings, edition_id, options=tomorrow)
            assert (summary.sent, summary.status, summary.waiting) == (200, "sent", None)
            assert assert_states_add_up(database, edition_id)["sent"] == 500
        finally:
            database.dispose()
    finally:
        server.stop()
    server.handler.assert_each_got_one(addresses)
