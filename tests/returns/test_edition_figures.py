"""An edition's figures against a seeded history of 20 editions, whose every number is
known from how it was seeded (tests/support/history.py)."""

from __future__ import annotations

import pytest

from newsletter.db.database import Database
from newsletter.returns import edition_figures
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
            edition_id: edition_figures.edition_returned(session, edition_id)
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
