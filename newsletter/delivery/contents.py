"""What an edition carries: its post in full, and in a busy week the other new posts as cards.

Every door renders an edition through :func:`render_post`: the preview, the dry run, the
owner's test copy, the send (and a resumed send), and the archive page. So they all show
the same cards: the ones the queue would choose now, or, once the post has gone out, the
ones it went out with.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from newsletter.config import NewsletterSection
from newsletter.content.post import Post
from newsletter.db import post_queue
from newsletter.db.models import Post as PostRow
from newsletter.mail.render import RenderedEdition, render_edition


def render_post(session: Session, newsletter: NewsletterSection, post: PostRow) -> RenderedEdition:
    """The edition of a queued post with its cards, rendered once for all its readers."""
    shown, cards = edition_posts(session, newsletter, post)
    return render_edition(shown, newsletter, cards)


def edition_posts(
    session: Session, newsletter: NewsletterSection, post: PostRow
) -> tuple[Post, list[Post]]:
    """The post and the posts shown as its cards, read while the session is open (the
    archive renders them afterwards, and only when its cache does not have the page)."""
    cards = post_queue.cards_for(session, post, newsletter.more_posts)
    return post_queue.document(post), [post_queue.document(card) for card in cards]
