"""An edition's figures against a seeded history of 20 editions, whose every number is
known from how it was seeded (tests/support/history.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from newsletter.db.database import Database
from newsletter.db.events import record_event
from newsletter.db.models import Subscriber
from newsletter.returns import edition_figures
from tests.support.db import new_edition
from tests.support.history import DOMAINS, History


def test_the_last_twelve_editions_count_what_the_history_holds(
    database: Database, history: History
) -> None:
    with database.session() as session:
        found = edition_figures.recent_editions(session, 12)

    assert [edition.id for edition in found] == history.edition_ids[::-1][:12]
    for edition in found:
        expected = history.expected[edition.id]
        numbers = {
            "recipients": edition.recipients,
            "sent": edition.sent,
            "deferred": edition.deferred,
            "failed": edition.failed,
            "hard": edition.hard,
            "soft": edition.soft,
            "complaints": edition.complaints,
            "unsubscribes": edition.unsubscribes,
        }
        assert numbers == {key: expected[key] for key in numbers}, edition.id
        assert edition.sender == 0  # no report of that kind exists yet
        assert edition.hard_percent == pytest.approx(
            100 * expected["hard"] / expected["recipients"]
        )
    assert sum(edition.hard for edition in found) > 0
    assert sum(edition.complaints for edition in found) > 0
    assert sum(edition.unsubscribes for edition in found) > 0


def test_an_editions_returned_mail_has_its_reasons(database: Database, history: History) -> None:
    with database.session() as session:
        returned = {
            edition_id: edition_figures.edition_returned(session, edition_id, 1, 1000).rows
            for edition_id in history.edition_ids
        }
    for edition_id, items in returned.items():
        expected = history.expected[edition_id]
        kinds = [item.kind for item in items]
        assert kinds.count("hard") == expected["hard"]
        assert kinds.count("complaint") == expected["complaints"]
        assert all(item.reason in ("userunknown", "abuse") for item in items)
        assert all(item.diagnostic for item in items)
        assert all(item.email and item.email.startswith("lezer") for item in items)


def test_per_receiving_domain_the_counts_add_up_to_the_edition(
    database: Database, history: History
) -> None:
    for edition_id in history.edition_ids[-3:]:
        with database.session() as session:
            figures = edition_figures.edition_figures(session, edition_id, top_domains=10)
        expected = history.expected[edition_id]
        found = {
            domain.domain: (domain.sent, domain.deferred, domain.failed, domain.hard, domain.soft)
            for domain in figures.by_domain
        }
        assert found == {
            name: tuple(
                expected[f"{key}@{name}"] for key in ("sent", "deferred", "failed", "hard", "soft")
            )
            for name in DOMAINS
        }
        assert sum(domain.complaints for domain in figures.by_domain) == figures.complaints


def test_a_refusal_during_the_send_is_listed_as_what_it_did(database: Database) -> None:
    """The edition page reads a ledger refusal by the same rule as the suspect count: one
    written before events carried their type is hard only when the address did not exist."""
    edition_id, readers = new_edition(database, 3)
    with database.session() as session:
        ids = {
            email: sid for sid, email in session.execute(select(Subscriber.id, Subscriber.email))
        }
        record_event(session, "bounce", "sender", ids[readers[0]], edition_id, type="suspect")
        record_event(
            session,
            "bounce",
            "sender",
            ids[readers[1]],
            edition_id,
            reason="the address does not exist",
        )
        record_event(
            session,
            "bounce",
            "sender",
            ids[readers[2]],
            edition_id,
            reason="soft bounces in 3 of the last 5 editions",
        )
    with database.session() as session:
        listed = edition_figures.edition_returned(session, edition_id, 1, 50).rows
    assert [(mail.email, mail.kind) for mail in listed] == [  # newest first
        (readers[2], "soft"),
        (readers[1], "hard"),
        (readers[0], "suspect"),
    ]
