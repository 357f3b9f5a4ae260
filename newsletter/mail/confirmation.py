"""The double opt-in mail ("Bevestig je aanmelding"), from ``templates/emails/confirm.*``.

Built with the editions' templates environment and message code, so it carries the same
sender, policies and line lengths; the web app sends it with the single-message sender.
"""

from __future__ import annotations

from datetime import datetime

from newsletter.config import NewsletterSection
from newsletter.content.classify import clean_display_name
from newsletter.mail.message import build_single_message
from newsletter.mail.render import email_templates

CONFIRM_MAX_AGE_DAYS = 7


def build_confirmation_message(
    newsletter: NewsletterSection,
    *,
    address: str,
    name: str | None,
    confirm_url: str,
    now: datetime,
) -> bytes:
    """The confirmation mail for one sign-up as CRLF bytes, text and HTML alternatives."""
    name = clean_display_name(name)
    context = {
        "name": name,
        "newsletter_name": newsletter.name,
        "confirm_url": confirm_url,
        "valid_days": CONFIRM_MAX_AGE_DAYS,
        "signature_lines": newsletter.signature.strip("\n").splitlines(),
    }
    templates = email_templates()
    return build_single_message(
        newsletter,
        to_name=name,
        to_address=address,
        subject=f"Bevestig je aanmelding voor {newsletter.name}",
        text=templates.get_template("confirm.txt").render(context),
        html=templates.get_template("confirm.html").render(context),
        now=now,
    )
