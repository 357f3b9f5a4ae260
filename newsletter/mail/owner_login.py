"""The owner's login mail ("Inloggen bij je nieuwsbrief"), from ``templates/emails/owner_login.*``.

Built like the confirmation mail (same sender, policies and line lengths). It goes
straight to ``newsletter.owner_address`` when the owner asks for it, not through the
owner alerts, which are mailed in batches by the daemon: a login link that arrives a
minute later has already cost the owner their patience.
"""

from __future__ import annotations

from datetime import datetime

from newsletter.config import NewsletterSection
from newsletter.mail.message import build_single_message
from newsletter.mail.render import email_templates


def build_login_message(
    newsletter: NewsletterSection, *, login_url: str, valid_minutes: int, now: datetime
) -> bytes:
    """The login mail as CRLF bytes, text and HTML alternatives."""
    context = {
        "newsletter_name": newsletter.name,
        "login_url": login_url,
        "valid_minutes": valid_minutes,
    }
    templates = email_templates()
    return build_single_message(
        newsletter,
        to_name=None,
        to_address=newsletter.owner_address,
        subject=f"Inloggen bij {newsletter.name}",
        text=templates.get_template("owner_login.txt").render(context),
        html=templates.get_template("owner_login.html").render(context),
        now=now,
    )
