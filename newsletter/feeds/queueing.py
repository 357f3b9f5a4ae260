"""A feed's items into the post queue: one post per item, found again at every poll.

The post queue's own rules (the content hash, a sent post stays as it was sent) are
:mod:`newsletter.db.post_queue`'s; what is a feed's here is how an item is known across
polls (GUID, else link) and how two daemons polling the same feed take turns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from newsletter.db import post_queue
from newsletter.db.database import insert_unless_taken
from newsletter.db.models import Feed
from newsletter.db.models import Post as PostRow
from newsletter.errors import DatabaseError
from newsletter.feeds.entries import FeedItem


def import_feed_items(
    session: Session, feed_id: int, items: Sequence[FeedItem]
) -> list[tuple[str, post_queue.ImportAction]]:
    """Add or refresh a feed's items; an item is known by its GUID, else by its link.

    A blog that changes an item's GUID (WordPress does when a post's address changes
    form) but keeps its link still has the same post. A post imported by hand earlier
    (same slug, no feed identity yet) is the same post too, and takes on the feed's
    identity. A different post that happens to have the same title gets a slug of its own.

    Two daemons polling the feed at the same moment add each new item once: the imports of
    one feed take turns (:func:`_take_turn`), and a post of another feed that takes the
    slug a moment before this insert leaves this one the next free slug (:func:`_find_or_add`).
    """
    _take_turn(session, feed_id)
    results: list[tuple[str, post_queue.ImportAction]] = []
    for item in items:
        row, added = _find_or_add(session, feed_id, item)
        if added:
            action: post_queue.ImportAction = "added"
        else:
            post = replace(item.post, slug=row.slug)
            action = post_queue.refresh(session, row, post, post_queue.content_hash(post))
            row.feed_id, row.guid, row.link = feed_id, item.guid, item.post.url
        session.flush()
        results.append((row.slug, action))
    return results


def _take_turn(session: Session, feed_id: int) -> None:
    """Wait until no other transaction is importing this feed, then hold it until commit.

    A write as the transaction's first statement: on PostgreSQL it locks the feed's row
    (another daemon's import of the feed waits here, then sees every post the first one
    added); on SQLite it takes the database's write lock, and the looks that follow see
    what was committed before. Without it both could look, both find an item new, and both
    add it under different slugs. (Not ``SELECT … FOR UPDATE``: SQLite has no such thing.)
    """
    unchanged = update(Feed).where(Feed.id == feed_id).values(last_polled_at=Feed.last_polled_at)
    session.execute(unchanged.execution_options(synchronize_session=False))


_ADD_ATTEMPTS = 5


def _find_or_add(session: Session, feed_id: int, item: FeedItem) -> tuple[PostRow, bool]:
    """The item's post, and whether it was added just now (under a slug of its own).

    A daemon importing another feed may add a post with the same slug between this look
    and this insert. The insert then does nothing (no IntegrityError, the transaction goes
    on) and the next look sees that post: a different post, so this one gets the next free
    slug (or this very item, when that feed holds it too: then it is found by GUID or link).
    """
    for _ in range(_ADD_ATTEMPTS):
        if (row := _known_item(session, item)) is not None:
            return row, False
        post = replace(item.post, slug=_free_slug(session, item.post.slug))
        values = {
            "slug": post.slug,
            "title": post.title,
            "source": post.source,
            "content_hash": post_queue.content_hash(post),
            "document": post.to_json(),
            "published_at": post.published_at,
            "feed_id": feed_id,
            "guid": item.guid,
            "link": post.url,
        }
        if (row := insert_unless_taken(session, PostRow, values)) is not None:
            return row, True
    raise DatabaseError(
        f"could not add {item.post.slug!r}: other imports took its slug "
        f"{_ADD_ATTEMPTS} times in a row; trying again at the next poll"
    )


def _known_item(session: Session, item: FeedItem) -> PostRow | None:
    if item.guid is not None:
        row = session.scalars(select(PostRow).where(PostRow.guid == item.guid).limit(1)).first()
        if row is not None:
            return row
    if item.post.url:
        query = select(PostRow).where(PostRow.link == item.post.url).limit(1)
        if (row := session.scalars(query).first()) is not None:
            return row
    query = select(PostRow).where(
        PostRow.slug == item.post.slug, PostRow.guid.is_(None), PostRow.link.is_(None)
    )
    return session.scalars(query).one_or_none()


def _free_slug(session: Session, slug: str) -> str:
    taken = set(session.scalars(select(PostRow.slug).where(PostRow.slug.like(f"{slug}%"))).all())
    candidate, number = slug, 2
    while candidate in taken:
        candidate, number = f"{slug}-{number}", number + 1
    return candidate
