"""A reader's temporary failure never slows the edition; the relay's pushback does.

Real aiosmtpd relays that fail by count (see relay_faults.py); after every send the
states add up: sent + deferred + failed + skipped + waiting = recipients.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from newsletter.db.database import Database
from newsletter.db.models import Delivery, Subscriber, utcnow
from newsletter.delivery.engine import send_edition
from newsletter.delivery.send_loop import SendOptions
from newsletter.delivery.throttle import Tuning
from tests.support.db import assert_states_add_up, delivery_states, new_edition
from tests.support.settings import make_settings, relay
from tests.support.smtp import GREYLISTED, LOCAL_ERROR, USER_UNKNOWN, Faults, SmtpServer

# Later passes retry at once, so the test can send the deferred messages too.
QUICK_RETRY = {"retry_first_minutes": 0.001, "retry_max_hours": 1.0}


def _finish(database: Database, server: SmtpServer, edition_id: int) -> None:
    """Make the deferred messages due and resume until nothing is open (each pass may meet
    new faults): at most 6 passes."""
    with database.session() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.edition_id == edition_id, Delivery.status == "deferred")
            .values(next_attempt_at=utcnow())
        )
    settings = make_settings(smtp=relay(server.port, **QUICK_RETRY))
    for _ in range(6):
        summary = send_edition(database, settings, edition_id)
        assert_states_add_up(database, edition_id)
        if summary.status == "sent":
            return
    pytest.fail(f"edition {edition_id} still open: {delivery_states(database, edition_id)}")


@pytest.mark.parametrize("pipelining", [False, True], ids=["plain", "pipelining"])
def test_the_fault_mix_runs_unthrottled_and_ends_in_the_right_states(
    database: Database, pipelining: bool
):
    edition_id, addresses = new_edition(database, 1000)
    faults = Faults(
        rcpt_every={37: LOCAL_ERROR, 50: USER_UNKNOWN}, drop_data_every=97, pipelining=pipelining
    )
    server = SmtpServer(faults).start()
    try:
        summary = send_edition(database, make_settings(smtp=relay(server.port)), edition_id)
        tally = assert_states_add_up(database, edition_id)
        handler = server.handler
        first = {a: state[0] for a, state in delivery_states(database, edition_id).items()}
        unknown = {a for a, replies in handler.refused.items() if replies[0] == USER_UNKNOWN}
        local_error = {a for a, replies in handler.refused.items() if replies[0] == LOCAL_ERROR}
        dropped = set(handler.dropped)
        assert unknown and local_error and dropped
        assert summary.slowdowns == 0, "a reader's 4xx slowed the edition down"
        assert {first[a] for a in unknown} == {"failed"}
        assert {first[a] for a in local_error | dropped} == {"deferred"}
        others = set(addresses) - unknown - local_error - dropped
        assert {first[a] for a in others} == {"sent"}
        assert tally == {
            "sent": len(others),
            "deferred": len(local_error | dropped),
            "failed": len(unknown),
            "skipped": 0,
            "waiting": 0,
        }

        _finish(database, server, edition_id)
    finally:
        server.stop()
    server.handler.assert_each_got_one(set(addresses) - unknown)
    with database.session() as session:
        bounced = set(
            session.scalars(select(Subscriber.email).where(Subscriber.status == "bounced"))
        )
    assert bounced == unknown  # a 451 4.3.0 or a dropped connection bounces nobody


def test_greylisting_every_tenth_reader_defers_them_only(database: Database):
    edition_id, addresses = new_edition(database, 400)
    server = SmtpServer(Faults(rcpt_every={10: GREYLISTED}, pipelining=True)).start()
    try:
        summary = send_edition(database, make_settings(smtp=relay(server.port)), edition_id)
        greylisted = set(server.handler.refused)
        assert len(greylisted) == 40
        assert summary.slowdowns == 0
        assert (summary.sent, summary.deferred) == (360, 40)
        assert_states_add_up(database, edition_id)
        _finish(database, server, edition_id)
    finally:
        server.stop()
    server.handler.assert_each_got_one(addresses)


@pytest.mark.parametrize("pipelining", [False, True], ids=["plain", "pipelining"])
def test_421_slow_down_at_mail_slows_the_sender_which_recovers_and_loses_nothing(
    database: Database, pipelining: bool
):
    edition_id, addresses = new_edition(database, 600)
    faults = Faults(mail_421=(100, 160), pipelining=pipelining)
    server = SmtpServer(faults).start()
    quick = Tuning(
        floor=20.0, cut_cooldown=0.05, recovery_seconds=0.05, probe_share=1.0, probes_per_span=100
    )
    try:
        settings = make_settings(smtp=relay(server.port))
        summary = send_edition(database, settings, edition_id, options=SendOptions(throttle=quick))
        assert server.handler.pushed_back > 0
        assert summary.slowdowns >= 1, "the sender did not slow down"
        assert summary.recoveries >= 1, "the sender did not recover"
        # A pushback is about us, not the reader: tried again in this run, never deferred.
        assert summary.sent == 600 and summary.deferred == 0 and summary.failed == 0
        assert_states_add_up(database, edition_id)
        _finish(database, server, edition_id)
    finally:
        server.stop()
    server.handler.assert_each_got_one(addresses)
