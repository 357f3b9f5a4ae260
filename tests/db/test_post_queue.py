"""The send queue: idempotent import, send order, skip/move, and sent posts frozen."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from newsletter.content.post import Block, Post
from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.db.models import Delivery, Edition, EditionStatus, Feed, Subscriber, utcnow
from newsletter.errors import InputError, NotFoundError
from tests.support.posts import FEED_ADDED, add_blog_posts, make_post


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


def blog_posts(database: Database, new: list[str], old: tuple[str, ...] | list[str] = ()) -> None:
    add_blog_posts(database, [queued_post(s) for s in new], [queued_post(s) for s in old])


def cards(database: Database, slug: str, limit: int = 2) -> list[str]:
    with database.session() as session:
        return [
            row.slug for row in post_queue.cards_for(session, post_queue.get(session, slug), limit)
        ]


def send_with_cards(
    database: Database, slug: str, shown: list[str], status: EditionStatus = EditionStatus.SENT
) -> int:
    with database.session() as session:
        edition = Edition(post_id=post_queue.get(session, slug).id, status=status, subject=slug)
        session.add(edition)
        session.flush()
        post_queue.show_as_cards(session, edition.id, shown)
        return edition.id


def test_a_busy_week_shows_the_other_new_posts_as_cards(database: Database) -> None:
    blog_posts(database, new=["n1", "n2", "n3", "n4"], old=["oud"])
    with database.session() as session:
        assert post_queue.next_unsent(session).slug == "n1"  # type: ignore[union-attr]
    assert cards(database, "n1") == ["n2", "n3"]
    assert cards(database, "n1", limit=5) == ["n2", "n3", "n4"]
    assert cards(database, "n1", limit=0) == []


def test_one_new_post_has_no_cards_and_the_back_catalogue_never_is_one(
    database: Database,
) -> None:
    blog_posts(database, new=["nieuw"], old=["oud1", "oud2"])
    with database.session() as session:
        post_queue.import_posts(session, [queued_post("handwerk")])
    assert cards(database, "nieuw") == []
    assert cards(database, "oud1") == []
    # A back-catalogue post moved ahead: the new posts are its cards once there are two.
    with database.session() as session:
        feed_id = session.scalar(select(Feed.id))
        post_queue.import_posts(
            session, [queued_post("nieuw2", published=FEED_ADDED + timedelta(days=9))]
        )
        post_queue.get(session, "nieuw2").feed_id = feed_id
        post_queue.move_before(session, "oud1", "nieuw")
    assert cards(database, "oud1") == ["nieuw", "nieuw2"]


def test_a_card_counts_as_sent_and_never_becomes_an_article(database: Database) -> None:
    blog_posts(database, new=["n1", "n2", "n3"], old=["oud"])
    edition_id = send_with_cards(database, "n1", ["n2"])
    assert order(database) == [("n1", "sent"), ("n2", "sent"), ("n3", "queued"), ("oud", "queued")]
    with database.session() as session:
        assert post_queue.entry(session, "n2").edition_id == edition_id
        assert post_queue.next_unsent(session).slug == "n3"  # type: ignore[union-attr]
        with pytest.raises(InputError, match="already sent"):
            post_queue.set_skipped(session, "n2", True)
    # Once sent, the article's cards are the ones it went out with, whatever waits now.
    assert cards(database, "n1") == ["n2"]
    # n3 is the only new post left: no cards for it.
    assert cards(database, "n3") == []


def test_a_cancelled_edition_gives_its_cards_back(database: Database) -> None:
    blog_posts(database, new=["n1", "n2", "n3"])
    send_with_cards(database, "n1", ["n2", "n3"], EditionStatus.CANCELLED)
    assert order(database) == [("n1", "queued"), ("n2", "queued"), ("n3", "queued")]
    assert cards(database, "n1") == ["n2", "n3"]
