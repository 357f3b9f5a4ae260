"""A reader's :class:`Recipient` made the way the senders make it, from whole settings."""

from __future__ import annotations

from newsletter.config import Settings
from newsletter.mail.render import Recipient, recipient_for


def recipient_of(
    settings: Settings, subscriber_id: int, email: str, name: str | None, *, post_slug: str
) -> Recipient:
    """``recipient_for`` with the base URL and link key of ``settings``."""
    return recipient_for(
        settings.newsletter.base_url,
        settings.signing_key(),
        subscriber_id,
        email,
        name,
        post_slug=post_slug,
    )
