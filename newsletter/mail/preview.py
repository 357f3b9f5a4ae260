"""One reader's message of a rendered edition: what ``preview`` shows and the check judges.

It is made by the very ``render`` and ``message`` code the delivery engine uses, for a
real subscriber when one is named and otherwise for the sample reader, whose links lead
nowhere (subscriber id 0 never exists). It takes the ``[newsletter]`` section and the
secret key it signs the links with, and nothing else of the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from newsletter.config import NewsletterSection
from newsletter.mail.message import build_message
from newsletter.mail.render import Recipient, RenderedEdition, personalise, recipient_for

# Whom a preview, a dry run and the demo write to when no subscriber is named.
SAMPLE_READER: tuple[str, str] = ("lezer@example.org", "Lezer")


@dataclass(frozen=True)
class Preview:
    edition: RenderedEdition
    recipient: Recipient
    message: bytes

    def parts(self) -> tuple[str, str]:
        """The HTML and the text part as this reader gets them, for ``newsletter preview``."""
        return personalise(self.edition, self.recipient)


def preview_of(
    newsletter: NewsletterSection,
    secret: str,
    rendered: RenderedEdition,
    reader: tuple[int, str, str | None] | None = None,
    now: datetime | None = None,
) -> Preview:
    """The message ``rendered`` makes for ``reader`` (id, address, name), else the sample."""
    subscriber_id, address, name = reader or (0, *SAMPLE_READER)
    recipient = recipient_for(
        newsletter.base_url, secret, subscriber_id, address, name, post_slug=rendered.post_slug
    )
    message = build_message(rendered, recipient, newsletter, now=now or datetime.now(UTC))
    return Preview(rendered, recipient, message)
