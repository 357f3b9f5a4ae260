"""The mails to the newsletter's owner when something needs them (``templates/emails/owner.*``).

Plain Dutch notices ("de wachtrij is leeg", "editie tegengehouden"): what happened and
what to do, with a report attached where there is one. Built like the confirmation mail,
so they carry the same sender and policies; the scheduler sends them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from newsletter.config import Settings
from newsletter.mail.message import build_single_message
from newsletter.mail.render import email_templates


def build_owner_message(
    settings: Settings,
    *,
    subject: str,
    paragraphs: Sequence[str],
    report: str | None = None,
    now: datetime,
) -> bytes:
    """One notice to ``newsletter.owner_address`` as CRLF bytes (text and HTML)."""
    context = {
        "subject": subject,
        "paragraphs": list(paragraphs),
        "report": report,
        "newsletter_name": settings.newsletter.name,
    }
    templates = email_templates()
    return build_single_message(
        settings.newsletter,
        to_name=None,
        to_address=settings.newsletter.owner_address,
        subject=subject,
        text=templates.get_template("owner.txt").render(context),
        html=templates.get_template("owner.html").render(context),
        now=now,
    )
