"""The welcome mail right after a confirmed sign-up (``templates/emails/welcome.*``).

So nobody waits up to a week to hear from us: it says when the newsletter comes and links
the latest edition in the archive. It looks like an edition (same layout, signature and
footer, same List-Unsubscribe headers) because it is the reader's first taste of one.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from newsletter.config import NewsletterSection
from newsletter.mail.message import build_message
from newsletter.mail.render import (
    BROWSER_PLACEHOLDER,
    GREETING_PLACEHOLDER,
    MANAGE_PLACEHOLDER,
    UNSUBSCRIBE_PLACEHOLDER,
    RenderedEdition,
    recipient_for,
    render_templates,
)

WELCOME_SUBJECT = "Welkom bij {name}"
_WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")


def build_welcome_message(
    newsletter: NewsletterSection,
    secret: str,
    *,
    subscriber_id: int,
    address: str,
    name: str | None,
    latest: tuple[str, str] | None,
    next_send: datetime | None,
    now: datetime,
) -> bytes:
    """The welcome mail for one new reader; ``latest`` is the (slug, title) of the latest
    edition in the archive, ``next_send`` the next weekly slot in local time; ``secret``
    signs the unsubscribe link."""
    rendered = _render(newsletter, latest, next_send)
    recipient = recipient_for(
        newsletter.base_url,
        secret,
        subscriber_id,
        address,
        name,
        post_slug=latest[0] if latest else "",
    )
    if latest is None:  # nothing sent yet: the archive's index instead of an edition
        base_url = newsletter.base_url.rstrip("/")
        recipient = dataclasses.replace(recipient, browser_url=f"{base_url}/archive")
    return build_message(rendered, recipient, newsletter, now=now)


def _render(
    newsletter: NewsletterSection, latest: tuple[str, str] | None, next_send: datetime | None
) -> RenderedEdition:
    subject = WELCOME_SUBJECT.format(name=newsletter.name)
    when = (
        f"elke {_WEEKDAYS[next_send.weekday()]} rond {next_send:%H:%M}"
        if next_send
        else "één keer per week"
    )
    context: dict[str, Any] = {
        "subject": subject,
        "preheader": f"Je aanmelding is bevestigd. De nieuwsbrief komt {when}.",
        "newsletter_name": newsletter.name,
        "when": when,
        "latest_title": latest[1] if latest else None,
        "browser_label": "Lees de laatste nieuwsbrief" if latest else "Archief",
        "reply_to": bool(newsletter.reply_to),
        "greeting": GREETING_PLACEHOLDER,
        "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
        "browser_url": BROWSER_PLACEHOLDER,
        "manage_url": MANAGE_PLACEHOLDER,
    }
    html, text = render_templates("welcome", context, newsletter.signature, what="welcome mail")
    return RenderedEdition(
        subject=subject,
        html=html,
        text=text,
        preheader=context["preheader"],
        excerpt=False,
        post_slug=latest[0] if latest else "",
    )
