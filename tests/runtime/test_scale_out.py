"""Two ``newsletter run`` processes on one PostgreSQL share one 5,000-recipient edition.

This week's edition is made in review first (as the weekly job would, with the slot a
couple of minutes ago), so its send time has already passed when both daemons start:
both pick it up in their start-up job at the same moment and claim batches with
``FOR UPDATE SKIP LOCKED``. The SMTP server takes a few milliseconds per message, so the
send lasts long enough for both to get work.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from newsletter.db.database import open_database
from newsletter.runtime.jobs import make_weekly_edition
from tests.support.daemons import Daemon, RunnerFactory
from tests.support.db import add_subscribers
from tests.support.posts import add_post
from tests.support.settings import AMSTERDAM, OWNER, make_settings, relay
from tests.support.smtp import Faults, SmtpServer
from tests.support.system import wait_until

RECIPIENTS = 5000
SENT_LINE = re.compile(r"edition (\d+): \w+: sent (\d+),")


def sent_by(daemon: Daemon, edition_id: int) -> int:
    """What this daemon says it sent of the edition, summed over its sends."""
    return sum(
        int(sent)
        for edition, sent in SENT_LINE.findall(daemon.stderr)
        if int(edition) == edition_id
    )


def summary_logged(daemon: Daemon, edition_id: int) -> bool:
    return any(int(edition) == edition_id for edition, _ in SENT_LINE.findall(daemon.stderr))


@pytest.mark.postgres
def test_two_daemons_send_one_edition_together_exactly_once(
    postgres_url: str, runner_factory: RunnerFactory
) -> None:
    database = open_database(postgres_url)
    try:
        addresses = add_subscribers(database, RECIPIENTS)
        add_post(database)
    finally:
        database.dispose()
    slot = (datetime.now(AMSTERDAM) - timedelta(minutes=2)).replace(second=0, microsecond=0)
    cron = f"{slot.minute} {slot.hour} {slot.day} {slot.month} *"
    server = SmtpServer(Faults(data_seconds=0.006)).start()
    try:
        settings = make_settings(
            newsletter={"owner_address": OWNER},
            database={"url": postgres_url},
            smtp=relay(server.port, timeout=30.0),
            schedule={"cron": cron, "review_minutes": 1},
        )
        database = open_database(postgres_url)
        try:
            # The weekly job ran at the slot: a [TEST] copy went out, the real send waits a
            # minute, and that minute has passed by now.
            outcome = make_weekly_edition(
                database, settings, slot.astimezone(UTC) + timedelta(seconds=1)
            )
        finally:
            database.dispose()
        assert outcome.action == "review", outcome
        assert outcome.edition_id is not None
        assert server.handler.per_address() == Counter({OWNER: 1})

        runner = runner_factory(
            postgres_url,
            server.port,
            cron=cron,
            extra_env={
                "NEWSLETTER_SCHEDULE__REVIEW_MINUTES": "1",
                "NEWSLETTER_NEWSLETTER__OWNER_ADDRESS": OWNER,
            },
        )
        first, second = runner.start(), runner.start()
        for daemon in (first, second):
            # Generous: a daemon may log this only after its first send of 5,000 (on a loaded
            # CI machine, close to a minute).
            daemon.wait_for_log(f"weekly edition {outcome.week_key}: already made", timeout=180)
        assert runner.status()["daemons_running"] == 2

        wait_until(
            lambda: [e.status for e in runner.editions()] == ["sent"],
            timeout=180,
            what=f"the edition to be sent\n{first.output()}\n{second.output()}",
        )
        for daemon in (first, second):
            wait_until(
                partial(summary_logged, daemon, outcome.edition_id),
                timeout=30,
                what=f"the daemon's summary of its send\n{daemon.output()}",
            )
        first.stop()
        second.stop()
        assert runner.status()["daemons_running"] == 0

        received = server.handler.per_address()
        assert received.pop(OWNER) == 1, "the owner gets the [TEST] copy only"
        assert received == Counter(dict.fromkeys(addresses, 1)), "not exactly once each"
        shares = [sent_by(daemon, outcome.edition_id) for daemon in (first, second)]
        assert sum(shares) == RECIPIENTS, (shares, first.output(), second.output())
        assert all(share > 0 for share in shares), f"one daemon did all the work: {shares}"
    finally:
        server.stop()
