"""Every state adds up: sent + deferred + failed + skipped + waiting = recipients, while a
real ``newsletter run`` sends through a faulty relay, after SIGTERM and after SIGKILL.
"""

from __future__ import annotations

import pytest

from newsletter.db.database import open_database
from newsletter.delivery import editions
from tests.support.daemons import RunnerFactory
from tests.support.db import assert_states_add_up
from tests.support.smtp import GREYLISTED, USER_UNKNOWN, Faults, SmtpServer
from tests.support.system import wait_until

from .test_daemon import IN_FLIGHT_BOUND, prepare

READERS = 1500


def _edition_id(database_url: str) -> int | None:
    database = open_database(database_url)
    try:
        with database.session() as session:
            found = editions.list_editions(session)
        return found[0].id if found else None
    finally:
        database.dispose()


def _adds_up(database_url: str, edition_id: int) -> dict[str, int]:
    database = open_database(database_url)
    try:
        return assert_states_add_up(database, edition_id)
    finally:
        database.dispose()


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGKILL"])
def test_states_add_up_during_a_faulty_send_and_after_the_daemon_is_stopped(
    database_url: str, runner_factory: RunnerFactory, signal_name: str
) -> None:
    addresses = prepare(database_url, READERS)
    faults = Faults(
        rcpt_every={10: GREYLISTED, 45: USER_UNKNOWN},
        drop_data_every=70,
        data_seconds=0.01,
        pipelining=True,
    )
    server = SmtpServer(faults).start()
    try:
        runner = runner_factory(database_url, server.port)
        daemon = runner.start()
        samples: list[dict[str, int]] = []

        def sent_a_third() -> bool:
            daemon.assert_alive()
            edition_id = _edition_id(database_url)
            if edition_id is not None:
                samples.append(_adds_up(database_url, edition_id))  # at all times
            return server.handler.count() >= READERS // 3

        wait_until(sent_a_third, timeout=90, what=f"a third of the send\n{daemon.output()}")
        if signal_name == "SIGTERM":
            daemon.stop()
        else:
            daemon.kill()
        edition_id = _edition_id(database_url)
        assert edition_id is not None and samples
        after = _adds_up(database_url, edition_id)
        assert after["waiting"] > 0, "stopped too late to test anything"
        database = open_database(database_url)
        try:
            with database.session() as session:
                counts = editions.describe_edition(session, edition_id).counts
        finally:
            database.dispose()
        if signal_name == "SIGTERM":
            assert counts["sending"] == 0, "SIGTERM must give unsent messages back"

        resumed = runner.command("send", "--resume", str(edition_id), "--json", timeout=120)
        assert resumed.returncode == 0, resumed.stderr
        final = _adds_up(database_url, edition_id)
        database = open_database(database_url)
        try:
            with database.session() as session:
                rows = list(editions.iterate_deliveries(session, edition_id))
        finally:
            database.dispose()
    finally:
        server.stop()
    assert final["waiting"] == 0 and final["skipped"] == 0
    by_status: dict[str, set[str]] = {}
    for row in rows:
        assert row.email is not None
        by_status.setdefault(row.status, set()).add(row.email)
    handler = server.handler
    unknown = {a for a, replies in handler.refused.items() if USER_UNKNOWN in replies}
    received = handler.per_address()
    assert set(received) <= set(addresses)
    assert by_status.get("failed", set()) <= unknown
    assert by_status["sent"] <= set(received)
    duplicates = sum(count - 1 for count in received.values())
    if signal_name == "SIGTERM":
        assert duplicates == 0, "a stopped daemon finishes what it has in flight"
        assert not set(received) & by_status.get("failed", set())
    else:
        # A killed sender's last messages went out unrecorded: sent again on resume (where
        # the relay's counters may now refuse them), never more than two batches.
        assert duplicates <= IN_FLIGHT_BOUND
