"""A relay that misbehaves: every message ends in the right state, none is sent twice."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from newsletter.db.models import Delivery, Event, Subscriber
from newsletter.delivery.engine import send_edition
from tests.support.db import delivery_states, new_edition
from tests.support.settings import make_settings, relay
from tests.support.smtp import Faults, SmtpServer

USER_UNKNOWN = "550 5.1.1 <{}>: Recipient address rejected: User unknown"
DMARC = "550 5.7.26 Unauthenticated email is not accepted due to domain's DMARC policy"


@pytest.mark.parametrize("pipelining", [False, True], ids=["plain", "pipelining"])
def test_refusals_stalls_and_hang_ups_end_in_the_right_state(database, pipelining):
    edition_id, addresses = new_edition(database, 40)
    unknown, busy, stalled, hung_up = addresses[1], addresses[2], addresses[3], addresses[4]
    faults = Faults(
        rcpt_replies={
            unknown: USER_UNKNOWN.format(unknown),
            busy: "451 4.7.1 Please try again later",
            addresses[5]: "552 5.2.2 Mailbox full",
            addresses[6]: DMARC,
        },
        stall_rcpt={stalled},
        stall_seconds=6.0,
        hang_up_in_data={hung_up},
        pipelining=pipelining,
    )
    server = SmtpServer(faults).start()
    try:
        settings = make_settings(smtp=relay(server.port, timeout=3.0, connections=2))
        summary = send_edition(database, settings, edition_id)
    finally:
        server.stop()

    states = delivery_states(database, edition_id)
    assert states[unknown][0] == "failed" and "5.1.1" in (states[unknown][2] or "")
    assert states[addresses[5]][0] == "failed"
    assert states[addresses[6]][0] == "failed" and "5.7.26" in (states[addresses[6]][2] or "")
    assert states[busy][:2] == ("deferred", 1) and "451" in (states[busy][2] or "")
    assert states[stalled][0] == "deferred" and "timeout" in (states[stalled][2] or "")
    assert states[hung_up][0] == "deferred"
    others = set(addresses) - {unknown, busy, stalled, hung_up, addresses[5], addresses[6]}
    assert {states[address][0] for address in others} == {"sent"}
    received = server.handler.per_address()
    assert set(received) == others and set(received.values()) == {1}
    assert (summary.sent, summary.failed, summary.deferred, summary.bounced) == (34, 3, 3, 1)
    assert summary.status == "sending"  # deferred messages keep the edition open
    with database.session() as session:
        bounced = session.scalars(select(Subscriber).where(Subscriber.email == unknown)).one()
        assert bounced.status == "bounced"
        event = session.scalars(select(Event).where(Event.kind == "bounce")).one()
        assert event.subscriber_id == bounced.id and event.edition_id == edition_id
        # Issue 22: our DMARC failure drops nobody and counts against nobody; a full
        # mailbox is a soft bounce that adds up, not a drop.
        soft = dict(
            session.execute(
                select(Subscriber.email, Delivery.soft_bounce)
                .join(Delivery, Delivery.subscriber_id == Subscriber.id)
                .where(Subscriber.email.in_([addresses[5], addresses[6]]))
            ).all()
        )
        assert soft == {addresses[5]: True, addresses[6]: False}
        statuses = session.scalars(
            select(Subscriber.status).where(Subscriber.email.in_([addresses[5], addresses[6]]))
        ).all()
        assert set(statuses) == {"active"}


class _Refuser:
    """A 'relay' that answers every connection with 421 and hangs up."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.port = 0
        ready = threading.Event()

        async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"421 4.3.2 Service not available, try later\r\n")
            await writer.drain()
            writer.close()

        def run() -> None:
            server = self.loop.run_until_complete(asyncio.start_server(greet, "127.0.0.1", 0))
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()
            server.close()
            self.loop.run_until_complete(server.wait_closed())
            self.loop.close()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(5)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def refuser() -> Iterator[_Refuser]:
    server = _Refuser()
    yield server
    server.stop()


def test_421_on_connect_pauses_the_edition_and_a_resume_sends_everything_once(
    database, refuser: _Refuser, smtp_server: SmtpServer
):
    edition_id, addresses = new_edition(database, 30)
    summary = send_edition(
        database, make_settings(smtp=relay(refuser.port, connections=2)), edition_id
    )

    assert summary.relay_unavailable and summary.sent == 0
    states = delivery_states(database, edition_id)
    # A 421 is pushback, about us and not the readers: nobody is deferred, every row is
    # given back to the queue untried (with no attempt counted) when the run stops.
    deferred = [a for a, (status, _, _) in states.items() if status == "deferred"]
    assert summary.deferred == 0 and not deferred
    assert {(status, attempts) for status, attempts, _ in states.values()} == {("queued", 0)}

    # The relay is back: every row goes now, once.
    resumed = send_edition(database, make_settings(smtp=relay(smtp_server.port)), edition_id)
    assert resumed.sent == len(addresses) - len(deferred)
    received = smtp_server.handler.per_address()
    assert set(received.values()) == {1} and not set(received) & set(deferred)
