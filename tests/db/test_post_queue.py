"""The send queue: idempotent import, send order, skip/move, and sent posts frozen."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from newsletter.content.post import Block, Post
from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.db.models import Delivery, Edition, EditionStatus, Subscriber, utcnow
from newsletter.errors import InputError, NotFoundError
from tests.support.posts import make_post


def queued_post(slug: str, text: str = "Tekst.", published: datetime | None = None) -> Post:
    """The toolkit's post with one paragraph of ``text``: a change of text is a new version."""
    return make_post(
        slug,
        f"Titel {slug}",
        source=f"{slug}.txt",
        blocks=(Block("paragraph", text),),
        published_at=published,
    )


def order(database: Database) -> list[tuple[str, str]]:
    with database.session() as session:
        return [(e.slug, e.status) for e in post_queue.entries(session)]


def send(database: Database, slug: str, status: EditionStatus = EditionStatus.SENT) -> None:
    with database.session() as session:
        row = post_queue.get(session, slug)
        session.add(Edition(post_id=row.id, status=status, subject=row.title))


def test_import_is_idempotent_by_slug_and_content(database: Database) -> None:
    with database.session() as session:
        assert post_queue.import_posts(session, [queued_post("a"), queued_post("b")]) == [
            ("a", "added"),
            ("b", "added"),
        ]
    with database.session() as session:
        assert post_queue.import_posts(session, [queued_post("a"), queued_post("b", "Nieuw.")]) == [
            ("a", "unchanged"),
            ("b", "updated"),
        ]
    with database.session() as session:
        assert post_queue.document(post_queue.get(session, "b")).blocks[0].text == "Nieuw."


def test_source_location_does_not_count_as_a_change(database: Database) -> None:
    with database.session() as session:
        post_queue.import_posts(session, [queued_post("a")])
    elsewhere = replace(queued_post("a"), source="feed.xml")
    with database.session() as session:
        assert post_queue.import_posts(session, [elsewhere]) == [("a", "unchanged")]


def test_a_sent_post_is_never_changed(database: Database) -> None:
    with database.session() as session:
        post_queue.import_posts(session, [queued_post("a")])
    send(database, "a")
    with database.session() as session:
        assert post_queue.import_posts(session, [queued_post("a", "Anders.")]) == [
            ("a", "sent, not changed")
        ]
        assert post_queue.document(post_queue.get(session, "a")).blocks[0].text == "Tekst."


def test_send_order_position_then_date_then_import(database: Database) -> None:
    early, late = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC)
    with database.session() as session:
        post_queue.import_posts(
            session,
            [
                queued_post("undated-1"),
                queued_post("late", published=late),
                queued_post("undated-2"),
                queued_post("early", published=early),
            ],
        )
    assert [s for s, _ in order(database)] == ["early", "late", "undated-1", "undated-2"]
    with database.session() as session:
        post_queue.move_before(session, "undated-2", "early")
    assert [s for s, _ in order(database)] == ["undated-2", "early", "late", "undated-1"]
    with database.session() as session:
        assert post_queue.next_unsent(session).slug == "undated-2"  # type: ignore[union-attr]


def test_next_unsent_skips_sent_and_skipped_posts(database: Database) -> None:
    with database.session() as session:
        post_queue.import_posts(session, [queued_post("a"), queued_post("b"), queued_post("c")])
    send(database, "a")
    with database.session() as session:
        post_queue.set_skipped(session, "b", True)
        assert post_queue.next_unsent(session).slug == "c"  # type: ignore[union-attr]
    assert order(database) == [("a", "sent"), ("b", "skipped"), ("c", "queued")]
    with database.session() as session:
        post_queue.set_skipped(session, "b", False)
        assert post_queue.next_unsent(session).slug == "b"  # type: ignore[union-attr]


def test_a_cancelled_edition_gives_the_post_back(database: Database) -> None:
    with database.session() as session:
        post_queue.import_posts(session, [queued_post("a")])
    send(database, "a", EditionStatus.CANCELLED)
    assert order(database) == [("a", "queued")]
    with database.session() as session:
        assert post_queue.next_unsent(session).slug == "a"  # type: ignore[union-attr]


def test_empty_queue_has_no_next(database: Database) -> None:
    with database.session() as session:
        assert post_queue.next_unsent(session) is None


def test_errors_for_unknown_and_sent_posts(database: Database) -> None:
    with database.session() as session:
        post_queue.import_posts(session, [queued_post("a"), queued_post("b")])
    send(database, "a")
    with database.session() as session:
        with pytest.raises(NotFoundError, match="no post with slug 'zzz'"):
            post_queue.get(session, "zzz")
        with pytest.raises(InputError, match="already sent"):
            post_queue.set_skipped(session, "a", True)
        with pytest.raises(InputError, match="already sent"):
            post_queue.move_before(session, "b", "a")
        with pytest.raises(InputError, match="before itself"):
            post_queue.move_before(session, "b", "b")


def test_a_cancelled_edition_that_reached_readers_keeps_its_post(database: Database) -> None:
    with database.session() as session:
        post_queue.import_posts(session, [queued_post("a"), queued_post("b")])
    send(database, "a", EditionStatus.CANCELLED)
    with database.session() as session:
        edition_id = session.scalar(select(Edition.id))
        subscriber = Subscriber(email="x@example.nl", status="active", created_at=utcnow())
        session.add(subscriber)
        session.flush()
        session.add(
            Delivery(edition_id=edition_id, subscriber_id=subscriber.id, status="sent", attempts=1)
        )
    assert order(database) == [("a", "sent"), ("b", "queued")]
    with database.session() as session:
        assert post_queue.next_unsent(session).slug == "b"  # type: ignore[union-attr]
