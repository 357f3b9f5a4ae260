"""Several machines, one PostgreSQL: ``newsletter run`` daemons under host names of their own.

Each daemon runs in a UTS namespace with its own host name (see
``DaemonRunner.start(host=...)``), so its leases say ``host-a:pid`` and it frees dead
processes' claims only on its own host, as on separate machines; the claims of a host
that dies are free only when their lease lapses. The relay notes the EHLO name of every
message, so a test sees which host sent whom. Leases are a few seconds long, so a
takeover comes within seconds (the daemons look for due work twice per lease).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from newsletter.db.database import open_database
from newsletter.db.models import Delivery
from newsletter.delivery import editions
from newsletter.delivery.budget import CREDIT_SECONDS
from tests.support.daemons import Daemon, DaemonRunner, RunnerFactory, cron_due_minutes_ago
from tests.support.db import add_subscribers, assert_states_add_up, new_edition_at
from tests.support.posts import add_post
from tests.support.settings import OWNER
from tests.support.smtp import Faults, SmtpServer
from tests.support.system import wait_until

pytestmark = pytest.mark.postgres

HOSTS = ("host-a", "host-b")
LEASE = timedelta(seconds=6)
SHORT_LEASE = {"NEWSLETTER_SMTP__LEASE_MINUTES": str(LEASE.total_seconds() / 60)}
NOT_DUE = cron_due_minutes_ago(-3 * 24 * 60)  # a slot three days ahead: no weekly edition
WAITING = "edition {}: waiting for the hourly limit until"
WEEKLY_LINE = re.compile(r"weekly edition \S+: (sent|already made)")


def _start_sending(database_url: str, edition_id: int) -> None:
    """Now every daemon's next look for due work (or its start-up job) takes it up."""
    database = open_database(database_url)
    try:
        with database.session() as session:
            editions.start_sending(session, edition_id)
    finally:
        database.dispose()


def _deliveries(database_url: str, edition_id: int) -> list[Delivery]:
    database = open_database(database_url)
    try:
        with database.session() as session:
            query = select(Delivery).where(Delivery.edition_id == edition_id)
            return list(session.scalars(query.order_by(Delivery.id)))
    finally:
        database.dispose()


def _edition_sent(runner: DaemonRunner, *daemons: Daemon) -> None:
    wait_until(
        lambda: [e.status for e in runner.editions()] == ["sent"],
        timeout=60,
        what="the edition to be sent\n" + "\n".join(d.output() for d in daemons),
    )


def test_two_hosts_at_one_slot_make_one_edition_and_mail_each_reader_once(
    postgres_url: str, runner_factory: RunnerFactory
) -> None:
    database = open_database(postgres_url)
    try:
        addresses = add_subscribers(database, 300)
        add_post(database)
    finally:
        database.dispose()
    with SmtpServer(Faults(data_seconds=0.005)) as server:
        runner = runner_factory(postgres_url, server.port, extra_env=SHORT_LEASE)
        daemons = [runner.start(host=host) for host in HOSTS]
        _edition_sent(runner, *daemons)
        for daemon in daemons:
            daemon.wait_for_log("weekly edition ")
            daemon.stop()
    made = Counter(WEEKLY_LINE.search(daemon.stderr)[1] for daemon in daemons)  # type: ignore[index]
    assert made == Counter({"sent": 1, "already made": 1}), made
    assert len(runner.editions()) == 1
    server.handler.assert_each_got_one(addresses)
    assert set(server.handler.hosts()) <= set(HOSTS)


def test_a_dead_hosts_claims_wait_for_the_lease_then_another_host_sends_them_once(
    postgres_url: str, runner_factory: RunnerFactory
) -> None:
    edition_id, addresses = new_edition_at(postgres_url, 30)
    _start_sending(postgres_url, edition_id)
    # Host A's first 10 messages go through; the relay then keeps the next ones in DATA,
    # unanswered, so A holds 20 claims and dies with none of them delivered.
    with SmtpServer(Faults(hold_after=10)) as server:
        env = {**SHORT_LEASE, "NEWSLETTER_SMTP__TIMEOUT": "60"}
        runner = runner_factory(postgres_url, server.port, cron=NOT_DUE, extra_env=env)
        host_a = runner.start(host="host-a")

        def held_by_a() -> dict[int, datetime]:
            return {
                row.id: row.claimed_at
                for row in _deliveries(postgres_url, edition_id)
                if row.claimed_by == host_a.identity and row.claimed_at is not None
            }

        def a_is_stuck() -> bool:
            rows = _deliveries(postgres_url, edition_id)
            return Counter(row.status for row in rows) == Counter(sent=10, sending=20)

        wait_until(a_is_stuck, timeout=30, what=f"host A to hold 20 claims\n{host_a.output()}")
        first_claims = held_by_a()
        host_b = runner.start(host="host-b")
        host_b.wait_for_log(f"edition {edition_id}: sending: sent 0,")
        # A lives and renews its lease: a whole lease after its claims they are still A's.
        wait_until(
            lambda: min(held_by_a().values()) >= max(first_claims.values()) + LEASE,
            timeout=30,
            what=f"host A to renew its lease\n{host_a.output()}\n{host_b.output()}",
        )
        assert held_by_a().keys() == first_claims.keys(), "host B took a live host's claims"

        host_a.kill()
        last_renewal = held_by_a()
        assert last_renewal.keys() == first_claims.keys()
        # The relay drops the dead host's messages when it sees the connections close.
        wait_until(lambda: server.handler.in_data == 0, timeout=10, what="A's sessions to end")
        server.handler.release()
        _edition_sent(runner, host_a, host_b)
        host_b.stop()

    server.handler.assert_each_got_one(addresses)
    by_host = Counter(mail.helo for mail in server.handler.received)
    assert by_host == Counter({"host-a": 10, "host-b": 20}), by_host
    for row in _deliveries(postgres_url, edition_id):
        if row.id in last_renewal:
            assert row.sent_at is not None and row.sent_at >= last_renewal[row.id] + LEASE, (
                "sent before A's lease lapsed"
            )


def test_two_hosts_together_keep_the_shared_per_second_and_hourly_limits(
    postgres_url: str, runner_factory: RunnerFactory
) -> None:
    edition_id, _ = new_edition_at(postgres_url, 220)
    limits = {"NEWSLETTER_SMTP__MAX_PER_SECOND": "20", "NEWSLETTER_SMTP__MAX_PER_HOUR": "120"}
    with SmtpServer(Faults(pipelining=True)) as server:
        env = {**SHORT_LEASE, **limits}
        runner = runner_factory(postgres_url, server.port, cron=NOT_DUE, extra_env=env)
        daemons = [runner.start(host=host) for host in HOSTS]
        for daemon in daemons:
            daemon.wait_healthy()
        # Both run before there is work: each takes the edition up at its next look for
        # due work (every 3 s), well before the 6 s that the hourly budget lasts.
        _start_sending(postgres_url, edition_id)
        # The host that meets the spent window says so; the other may have run out of
        # claims first, and its next looks for due work stay quiet while the window is spent.
        wait_until(
            lambda: any(WAITING.format(edition_id) in daemon.stderr for daemon in daemons),
            timeout=30,
            what="the hourly limit\n" + "\n".join(daemon.output() for daemon in daemons),
        )
        wait_until(
            lambda: all(row.status != "sending" for row in _deliveries(postgres_url, edition_id)),
            timeout=30,
            what="the claims not sent to be given back",
        )
        for daemon in daemons:
            daemon.stop()
    assert server.handler.count() == 120
    assert set(server.handler.hosts()) == set(HOSTS), server.handler.hosts()
    # The shared grid allows 20 a second from its first slot, plus a second's credit after
    # a stall; the first message arrives up to a second after that slot on a busy machine
    # (the connection is opened first). Two budgets of their own would have sent the 120
    # in three seconds, too many for that.
    times = sorted(server.handler.accepted_at)
    allowed = 20 * (times[-1] - times[0] + CREDIT_SECONDS + 1.0)
    assert len(times) <= allowed, f"{len(times)} in {times[-1] - times[0]:.2f} s"
    database = open_database(postgres_url)
    try:
        tally = assert_states_add_up(database, edition_id)
    finally:
        database.dispose()
    assert (tally["sent"], tally["waiting"]) == (120, 100)


def test_two_hosts_at_a_slot_with_an_empty_queue_tell_the_owner_once(
    postgres_url: str, runner_factory: RunnerFactory
) -> None:
    # A new database, as on the first day: both daemons create the schema, in turns.
    with SmtpServer() as server:
        owner = {"NEWSLETTER_NEWSLETTER__OWNER_ADDRESS": OWNER}
        runner = runner_factory(postgres_url, server.port, extra_env=owner)
        daemons = [runner.start(host=host) for host in HOSTS]
        for daemon in daemons:
            daemon.wait_for_log("weekly edition ")
        # Stopped, each has finished its jobs: any second mail would be in by now.
        for daemon in daemons:
            daemon.stop()
    assert server.handler.per_address() == Counter({OWNER: 1})
    assert runner.editions() == []
