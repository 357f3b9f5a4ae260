"""The queue of posts: what has been imported, in which order it goes out, what was sent.

Send order is: explicit position first (set by ``move``), then the posts a feed brought
that were published after the feed was first polled (oldest first), then the back
catalogue (every other post, oldest first), then import order. So a new blog post is the
next edition instead of waiting behind years of old posts, and a week without a new post
still gets an edition from the back catalogue. :func:`next_unsent` is the one definition
of "the next post to send"; the CLI, the preview and the scheduler all ask it.

A post that went into an edition is frozen: re-importing it never changes what was sent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, case, exists, or_, select, update
from sqlalchemy.orm import Session

from newsletter.content import Post
from newsletter.content.feed import FeedItem
from newsletter.db.database import insert_unless_taken
from newsletter.db.models import (
    Delivery,
    DeliveryStatus,
    Edition,
    EditionStatus,
    Feed,
    utcnow,
)
from newsletter.db.models import Post as PostRow
from newsletter.errors import DatabaseError, InputError, NotFoundError

PostStatus = Literal["queued", "skipped", "sent"]
ImportAction = Literal["added", "updated", "unchanged", "sent, not changed"]


@dataclass(frozen=True)
class QueueEntry:
    id: int
    slug: str
    title: str
    status: PostStatus
    edition_id: int | None
    position: int | None
    published_at: datetime | None
    source: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "slug": self.slug,
            "title": self.title,
            "status": self.status,
            "edition": self.edition_id,
            "position": self.position,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "source": self.source,
        }


def content_hash(post: Post) -> str:
    """Hash of what subscribers would read; where the post was read from does not count."""
    document = post.to_json()
    document.pop("source")
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _takes_its_post() -> ColumnElement[bool]:
    """An edition uses up its post unless it was cancelled before anything went out.

    A cancelled edition that already sent some messages keeps its post: sending the post
    again would mail those readers twice.
    """
    reached_someone = exists().where(
        Delivery.edition_id == Edition.id, Delivery.status == DeliveryStatus.SENT
    )
    return or_(Edition.status != EditionStatus.CANCELLED, reached_someone)


def edition_of(post_id: Any) -> Select[int]:
    """The (latest) edition that used up this post, if any."""
    return (
        select(Edition.id)
        .where(Edition.post_id == post_id, _takes_its_post())
        .order_by(Edition.id.desc())
        .limit(1)
    )


def _in_send_order(query: Select[Any]) -> Select[Any]:
    new_on_the_blog = exists().where(
        Feed.id == PostRow.feed_id, PostRow.published_at > Feed.added_at
    )
    return query.order_by(
        PostRow.position.is_(None),
        PostRow.position,
        case((new_on_the_blog, 0), else_=1),
        PostRow.published_at.is_(None),
        PostRow.published_at,
        PostRow.id,
    )


def import_posts(session: Session, posts: Sequence[Post]) -> list[tuple[str, ImportAction]]:
    """Add or refresh posts, idempotent by slug and content hash."""
    results: list[tuple[str, ImportAction]] = []
    for post in posts:
        digest = content_hash(post)
        row = session.scalars(select(PostRow).where(PostRow.slug == post.slug)).one_or_none()
        if row is None:
            session.add(
                PostRow(
                    slug=post.slug,
                    title=post.title,
                    source=post.source,
                    content_hash=digest,
                    document=post.to_json(),
                    published_at=post.published_at,
                )
            )
            session.flush()
            results.append((post.slug, "added"))
        else:
            results.append((post.slug, _refresh(session, row, post, digest)))
    return results


def _refresh(session: Session, row: PostRow, post: Post, digest: str) -> ImportAction:
    """Bring a known post up to date with its source, unless it was already sent."""
    if row.content_hash == digest:
        return "unchanged"
    if session.scalar(edition_of(row.id)) is not None:
        return "sent, not changed"
    row.title = post.title
    row.source = post.source
    row.content_hash = digest
    row.document = post.to_json()
    row.published_at = post.published_at
    row.updated_at = utcnow()
    return "updated"


def import_feed_items(
    session: Session, feed_id: int, items: Sequence[FeedItem]
) -> list[tuple[str, ImportAction]]:
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
    results: list[tuple[str, ImportAction]] = []
    for item in items:
        row, added = _find_or_add(session, feed_id, item)
        if added:
            action: ImportAction = "added"
        else:
            post = replace(item.post, slug=row.slug)
            action = _refresh(session, row, post, content_hash(post))
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
            "content_hash": content_hash(post),
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


def entries(session: Session) -> list[QueueEntry]:
    """Every post in send order, sent ones included (they keep their place)."""
    edition = edition_of(PostRow.id).scalar_subquery()
    rows = session.execute(_in_send_order(select(PostRow, edition)))
    return [_entry(row, edition_id) for row, edition_id in rows]


def _entry(row: PostRow, edition_id: int | None) -> QueueEntry:
    status: PostStatus = "sent" if edition_id else "skipped" if row.skipped else "queued"
    return QueueEntry(
        id=row.id,
        slug=row.slug,
        title=row.title,
        status=status,
        edition_id=edition_id,
        position=int(row.position) if row.position is not None else None,
        published_at=row.published_at,
        source=row.source,
    )


def get(session: Session, slug: str) -> PostRow:
    row = session.scalars(select(PostRow).where(PostRow.slug == slug)).one_or_none()
    if row is None:
        raise NotFoundError(f"no post with slug {slug!r} (see `newsletter posts list`)")
    return row


def entry(session: Session, slug: str) -> QueueEntry:
    row = get(session, slug)
    return _entry(row, session.scalar(edition_of(row.id)))


def next_unsent(session: Session) -> PostRow | None:
    """The post the next edition is made of: first in send order, not skipped, never sent."""
    taken = select(Edition.post_id).where(_takes_its_post())
    query = select(PostRow).where(PostRow.skipped.is_(False), PostRow.id.not_in(taken))
    return session.scalars(_in_send_order(query).limit(1)).first()


def document(row: PostRow) -> Post:
    return Post.from_json(row.document)


def set_skipped(session: Session, slug: str, skipped: bool) -> QueueEntry:
    row = get(session, slug)
    if session.scalar(edition_of(row.id)) is not None:
        raise InputError(f"{slug} was already sent; skipping it changes nothing")
    row.skipped = skipped
    return entry(session, slug)


def move_before(session: Session, slug: str, other: str) -> list[QueueEntry]:
    """Put ``slug`` right before ``other``; unsent posts get explicit positions 1..n."""
    if slug == other:
        raise InputError("a post cannot be moved before itself")
    moving, anchor = get(session, slug), get(session, other)
    for row in (moving, anchor):
        if session.scalar(edition_of(row.id)) is not None:
            raise InputError(f"{row.slug} was already sent; only unsent posts can be moved")
    order = [e.slug for e in entries(session) if e.status != "sent" and e.slug != slug]
    order.insert(order.index(other), slug)
    rows = {
        row.slug: row for row in session.scalars(select(PostRow).where(PostRow.slug.in_(order)))
    }
    for position, name in enumerate(order, start=1):
        rows[name].position = position
    session.flush()
    return entries(session)
