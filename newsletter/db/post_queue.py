"""The queue of posts: what has been imported, in which order it goes out, what was sent.

Send order is: explicit position first (set by ``move``), then the posts a feed brought
that were published after the feed was first polled (oldest first), then the back
catalogue (every other post, oldest first), then import order. So a new blog post is the
next edition instead of waiting behind years of old posts, and a week without a new post
still gets an edition from the back catalogue. :func:`next_unsent` is the one definition
of "the next post to send"; the CLI, the preview and the scheduler all ask it.

In a busy week (more than one new post waiting) an edition also shows the other new posts
as short cards (:func:`cards_for`). A post goes out as an edition's article or as a card,
and either way it is sent: it never comes back as an article.

A post that went into an edition is frozen: re-importing it never changes what was sent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, case, exists, or_, select
from sqlalchemy.orm import Session

from newsletter.content.post import Post
from newsletter.db import states
from newsletter.db.models import Edition, EditionCard, EditionStatus, Feed, utcnow
from newsletter.db.models import Post as PostRow
from newsletter.errors import InputError, NotFoundError

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
    return or_(Edition.status != EditionStatus.CANCELLED, states.reached_someone())


def _article_of(post_id: Any) -> Select[int]:
    """The (latest) edition that used up this post as its article, if any."""
    return (
        select(Edition.id)
        .where(Edition.post_id == post_id, _takes_its_post())
        .order_by(Edition.id.desc())
        .limit(1)
    )


def edition_of(post_id: Any) -> Select[int]:
    """The (latest) edition that used up this post, as its article or as a card."""
    # Correlated on the caller's post too, when ``post_id`` is a column (see ``entries``).
    as_card = (
        exists()
        .where(EditionCard.edition_id == Edition.id, EditionCard.post_id == post_id)
        .correlate_except(EditionCard)
    )
    return (
        select(Edition.id)
        .where(or_(Edition.post_id == post_id, as_card), _takes_its_post())
        .order_by(Edition.id.desc())
        .limit(1)
    )


def _new_on_the_blog() -> ColumnElement[bool]:
    """Brought by a feed and published after that feed was first polled: not the back
    catalogue the first poll found."""
    return exists().where(Feed.id == PostRow.feed_id, PostRow.published_at > Feed.added_at)


def _in_send_order(query: Select[Any]) -> Select[Any]:
    return query.order_by(
        PostRow.position.is_(None),
        PostRow.position,
        case((_new_on_the_blog(), 0), else_=1),
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
            results.append((post.slug, refresh(session, row, post, digest)))
    return results


def refresh(session: Session, row: PostRow, post: Post, digest: str) -> ImportAction:
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


def _unsent() -> Select[PostRow]:
    """Posts no edition used up, as its article or as a card, and not skipped."""
    articles = select(Edition.post_id).where(_takes_its_post())
    cards = (
        select(EditionCard.post_id)
        .join(Edition, Edition.id == EditionCard.edition_id)
        .where(_takes_its_post())
    )
    return select(PostRow).where(
        PostRow.skipped.is_(False), PostRow.id.not_in(articles), PostRow.id.not_in(cards)
    )


def next_unsent(session: Session) -> PostRow | None:
    """The post the next edition is made of: first in send order, not skipped, never sent."""
    return session.scalars(_in_send_order(_unsent()).limit(1)).first()


def cards_for(session: Session, post: PostRow, limit: int) -> list[PostRow]:
    """The other new posts an edition of ``post`` shows as cards, in order.

    Once ``post`` has gone out: the cards it went out with, so the archive and a resumed
    send show what was sent. Before: when more than one new post waits (``post`` counted
    when it is new itself), the first ``limit`` new ones besides it in send order. Back
    catalogue posts are never cards: they have no news to tell.
    """
    made = session.scalar(_article_of(post.id))
    if made is not None:
        return list(session.scalars(_cards_of([made])))
    if limit <= 0:
        return []
    others = _unsent().where(PostRow.id != post.id, _new_on_the_blog())
    found = list(session.scalars(_in_send_order(others).limit(limit)))
    new_itself = session.scalar(select(PostRow.id).where(PostRow.id == post.id, _new_on_the_blog()))
    return found if len(found) + (new_itself is not None) > 1 else []


def cards_by_edition(session: Session, edition_ids: Sequence[int]) -> dict[int, list[str]]:
    """The slugs of the posts each of these editions shows as cards, in order."""
    shown: dict[int, list[str]] = {}
    query = _cards_of(edition_ids).add_columns(EditionCard.edition_id)
    for post, edition_id in session.execute(query):
        shown.setdefault(edition_id, []).append(post.slug)
    return shown


def _cards_of(edition_ids: Sequence[int]) -> Select[PostRow]:
    return (
        select(PostRow)
        .join(EditionCard, EditionCard.post_id == PostRow.id)
        .where(EditionCard.edition_id.in_(edition_ids))
        .order_by(EditionCard.edition_id, EditionCard.position)
    )


def show_as_cards(session: Session, edition_id: int, slugs: Sequence[str]) -> None:
    """Record that edition ``edition_id`` shows these posts as cards, in this order."""
    for position, slug in enumerate(slugs):
        card = get(session, slug)
        session.add(EditionCard(edition_id=edition_id, post_id=card.id, position=position))


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
