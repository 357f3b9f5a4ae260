"""Every query of the send and of the due-work job finds its rows by an index (PostgreSQL).

How this is shown, and why it holds at a million readers:

- The statements are not copied here: the real paths run (the ledger's reclaim, count,
  claim, record of sent, deferred and refused mail with the suspect and soft-bounce
  rules, lease renewal and release; the shared budget; the due-work job; finishing the
  edition; returned mail tied by our Message-ID and by address), and every statement
  they send is captured and then EXPLAINed with its own parameters.
- The planner has a real choice: the list is seeded in the shape of a real one (a year
  of editions, the newest still sending, a few per cent of it queued or deferred; see
  ``tests/support/bulk.py``), ANALYZEd, and large enough that a sequential scan costs
  hundreds of pages. No ``enable_seqscan = off``: that would turn every plan into an
  index plan and prove nothing.
- Each predicate picks the same fraction of a table at any size here and at a million,
  while a sequential scan costs in proportion to the table: a plan that already prefers
  the index at this size prefers it all the more at scale.

A table read by a sequential scan fails the test, except the ones that stay small by
design (editions: one a week; the budget's two tables; posts).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.db.models import Subscriber, utcnow
from newsletter.delivery import editions
from newsletter.delivery.attempt import Attempt, Outcome
from newsletter.delivery.budget import Limits, SharedBudget
from newsletter.delivery.ledger import Ledger
from newsletter.delivery.message_ids import message_ids
from newsletter.delivery.outcomes import Result, RetryPolicy
from newsletter.returns.apply import RelayEvent, process_event
from newsletter.returns.parse import Kind
from newsletter.runtime.jobs import editions_with_due_work
from tests.support.bulk import LargeList, seed_large_list
from tests.support.settings import make_settings

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

LARGE = re.compile(r"\b(deliveries|subscribers|events|bounce_reports)\b")
# Every edition the size of the next, as on a list that holds steady: the newest is one
# in 26 of the deliveries, its reports one in 26 of the reports.
SHAPE = LargeList(readers=20_000, weeks=26, history_rows=4000, returns_every=20, newest_rows=4000)
Captured = tuple[str, Any]


@contextmanager
def captured(database: Database) -> Iterator[list[Captured]]:
    """Every statement sent to the database meanwhile that reads a large table."""
    found: list[Captured] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if LARGE.search(statement):
            many = (
                isinstance(parameters, list | tuple)
                and parameters
                and not isinstance(parameters, dict)
            )
            found.append((statement, parameters[0] if many else parameters))

    event.listen(database.engine, "before_cursor_execute", keep)
    try:
        yield found
    finally:
        event.remove(database.engine, "before_cursor_execute", keep)


def scans(database: Database, statement: str, parameters: Any) -> list[dict[str, Any]]:
    """The plan's nodes that read a table or an index."""
    with database.engine.connect() as connection:
        plan = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)
        nodes = [plan.scalar_one()[0]["Plan"]]
    found = []
    while nodes:
        node = nodes.pop()
        nodes.extend(node.get("Plans", []))
        if "Relation Name" in node or "Index Name" in node:
            found.append(node)
    return found


def sequential(nodes: list[dict[str, Any]]) -> list[str]:
    return [
        node["Relation Name"]
        for node in nodes
        if node["Node Type"] == "Seq Scan" and LARGE.fullmatch(node["Relation Name"])
    ]


def send_and_return(database: Database, settings: Settings, edition_id: int) -> None:
    """The send's statements, the due-work job's and those of returned mail."""
    now = utcnow()
    ids = message_ids(settings).of_edition(edition_id)
    ledger = Ledger(
        database.engine,
        edition_id,
        lease=timedelta(minutes=10),
        retry=RetryPolicy(timedelta(minutes=5), timedelta(hours=8)),
        message_ids=ids,
    )
    editions_with_due_work(database, settings, now)
    editions_with_due_work(database, settings, now, at_start=True)
    ledger.reclaim_abandoned()
    assert ledger.count_due() > 0
    claims, _ = ledger.claim(30)
    assert len(claims) > 20
    replies = [
        Attempt(Outcome.SENT, "250 ok"),
        Attempt(Outcome.DEFERRED, "452 4.2.2 mailbox full", soft_bounce=True),
        Attempt(Outcome.FAILED, "550 5.1.1 user unknown", bounced=True),
    ]
    tally = ledger.record([Result(c, replies[n % 3]) for n, c in enumerate(claims)])
    assert tally.sent and tally.deferred and tally.bounced
    ledger.renew_lease()
    more, _ = ledger.claim(10)
    ledger.release(more)
    budget = SharedBudget(database.engine, Limits(50.0, 1000, 10000))
    assert budget.take(10).count == 10
    budget.waiting()
    with database.session() as session:
        editions.finish_if_done(session, edition_id)
    sent = claims[0]
    with database.session() as session:
        email = session.scalar(select(Subscriber.email).where(Subscriber.id == sent.subscriber_id))
    by_id = RelayEvent(Kind.COMPLAINT, email, "abuse", "e1", ids.for_subscriber(sent.subscriber_id))
    by_address = RelayEvent(Kind.HARD, claims[3].email, "userunknown", "e2")
    for relay_event, reader in ((by_id, sent), (by_address, claims[3])):
        settled = process_event(database, settings, relay_event, source="ses").verdicts
        assert [one.subscriber_id for one in settled] == [reader.subscriber_id]


def test_every_statement_of_the_send_and_due_work_uses_an_index(database: Database) -> None:
    newest = seed_large_list(database, SHAPE)
    # The check can fail: a predicate no index serves, on the same data, is caught.
    unindexed = "SELECT id FROM deliveries WHERE last_reply LIKE %(text)s"
    assert sequential(scans(database, unindexed, {"text": "%user%"})) == ["deliveries"]
    settings = make_settings()
    with captured(database) as statements:
        send_and_return(database, settings, newest)
    assert len(statements) > 30
    used: set[str] = set()
    for statement, parameters in statements:
        nodes = scans(database, statement, parameters)
        assert not sequential(nodes), f"sequential scan of {sequential(nodes)} for:\n{statement}"
        used |= {node["Index Name"] for node in nodes if "Index Name" in node}
    assert {
        "ix_deliveries_work",
        "ix_deliveries_edition_domain",
        "ix_events_edition_id_kind",
        "uq_deliveries_edition_id_subscriber_id",
        "uq_subscribers_email",
    } <= used, used
