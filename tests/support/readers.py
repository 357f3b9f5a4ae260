"""A reader's :class:`Recipient` and edition made the way the senders make them."""

from __future__ import annotations

from datetime import UTC, datetime

from newsletter.config import Settings
from newsletter.mail.message import build_message
from newsletter.mail.render import Recipient, recipient_for, render_edition

from .posts import make_post
from .smtp import ReceivedMail


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


def edition_mail(
    settings: Settings, subscriber_id: int, email: str, name: str | None = None
) -> ReceivedMail:
    """A real edition for one reader, as the sender builds it: its links are theirs."""
    edition = render_edition(
        make_post("innerlijke-rust", "Innerlijke rust", every_block=True), settings.newsletter
    )
    reader = recipient_of(settings, subscriber_id, email, name, post_slug=edition.post_slug)
    data = build_message(edition, reader, settings.newsletter, now=datetime.now(UTC))
    return ReceivedMail(sender="", recipients=[email], data=data)
