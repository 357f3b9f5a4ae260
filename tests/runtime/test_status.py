"""What ``newsletter status`` reports, collected in-process from one database: the queue,
the next slot in the newsletter's own time zone, and warnings a person acts on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from newsletter.db import owner_hold
from newsletter.db.database import Database
from newsletter.db.models import Subscriber, SubscriberStatus
from newsletter.feeds import state
from newsletter.runtime.status import collect_status
from tests.support.bulk import LargeList, seed_large_list
from tests.support.posts import add_post, make_post
from tests.support.settings import make_settings

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)  # a Thursday
FEED = "https://gerrit:geheim-7Xq@blog.example/feed/"


def test_an_empty_database_reports_an_empty_queue_and_says_so(database: Database) -> None:
    status = collect_status(database, make_settings(), NOW)
    assert status["queue"] == {"queued": 0, "skipped": 0, "sent": 0, "next": None}
    assert status["edition"] is None and status["deferred_backlog"] == 0
    assert status["next_run"]["timezone"] == "Europe/Amsterdam"
    assert status["next_run"]["local"].endswith("+01:00")  # December: winter time
    assert (
        "the queue is empty: the next slot makes no edition unless a post arrives"
        in (status["warnings"])
    )


def test_the_next_post_is_named_and_the_warning_goes(database: Database) -> None:
    slug = add_post(database, make_post("innerlijke-rust", "Innerlijke rust"))
    status = collect_status(database, make_settings(), NOW)
    assert status["queue"]["queued"] == 1 and status["queue"]["next"] == slug
    assert not any("queue is empty" in warning for warning in status["warnings"])


def test_a_failing_feed_is_a_warning_without_its_password(database: Database) -> None:
    with database.session() as session:
        state.record_failure(state.feed_for(session, FEED, NOW), NOW, f"cannot fetch {FEED}")
        session.commit()
    status = collect_status(database, make_settings(posts={"feeds": (FEED,)}), NOW)
    (feed,) = status["feeds"]
    assert feed["failing_since"] is not None and "geheim-7Xq" not in str(status)
    assert any(warning.startswith("feed failing since") for warning in status["warnings"])


def test_the_owners_hold_on_the_next_edition_is_reported(database: Database) -> None:
    assert collect_status(database, make_settings(), NOW)["next_run"]["held_by_owner"] is False
    with database.session() as session:
        owner_hold.ask(session, "owner")
    status = collect_status(database, make_settings(), NOW)
    assert status["next_run"]["held_by_owner"] is True
    assert any("the owner holds the next edition" in warning for warning in status["warnings"])


def test_the_reader_counts_are_each_readers_state_counted_once(database: Database) -> None:
    """One query counts what three did: the same figures as reading every reader."""
    seed_large_list(database, LargeList(700, weeks=1), now=NOW)
    with database.engine.begin() as connection:
        for every, values in (
            (7, {"paused_until": NOW + timedelta(weeks=4)}),  # on a pause
            (11, {"paused_until": NOW - timedelta(days=1)}),  # a pause that has ended
            (3, {"signed_up_at": NOW - timedelta(weeks=9)}),  # proof of consent
            (50, {"email": None}),  # erased
        ):
            connection.execute(update(Subscriber).where(Subscriber.id % every == 0), values)
    with database.session() as session:
        active = [
            reader
            for reader in session.scalars(select(Subscriber))
            if reader.status == SubscriberStatus.ACTIVE and reader.email is not None
        ]
    paused = sum(1 for r in active if r.paused_until is not None and r.paused_until > NOW)
    expected = {
        "receiving": len(active) - paused,
        "paused": paused,
        "without_consent_evidence": sum(1 for r in active if r.signed_up_at is None),
    }
    assert min(expected.values()) > 0 and expected["receiving"] < 630  # every case present

    assert collect_status(database, make_settings(), NOW)["readers"] == expected
