"""What an edition carries: its post in full, and in a busy week the other new posts as cards.

Every door renders an edition through :func:`render_post`: the preview, the dry run, the
owner's test copy, the send (and a resumed send), and the archive page. So they all show
the same cards: the ones the queue would choose now, or, once the post has gone out, the
ones it went out with.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from newsletter.config import NewsletterSection
from newsletter.db import post_queue
from newsletter.db.models import Post as PostRow
from newsletter.mail.render import RenderedEdition, render_edition


def render_post(session: Session, newsletter: NewsletterSection, post: PostRow) -> RenderedEdition:
    """The edition of a queued post with its cards, rendered once for all its readers."""
    shown = post_queue.edition_posts(session, post, newsletter.more_posts)
    return render_edition(shown.post, newsletter, shown.cards)
