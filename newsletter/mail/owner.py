"""The mails to the newsletter's owner when something needs them (``templates/emails/owner.*``).

Plain Dutch notices ("de wachtrij is leeg", "editie tegengehouden"): what happened and
what to do, with a report attached where there is one. Built like the confirmation mail,
so they carry the same sender and policies. Several notices about one edition make one
mail, each under its own heading, so a bad edition is one message to read, not three.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from newsletter.config import NewsletterSection
from newsletter.mail.message import build_single_message
from newsletter.mail.render import email_templates


@dataclass(frozen=True)
class Notice:
    """One thing the owner must hear: its subject (the mail's, when it is alone), what
    happened and what to do, and a report shown as it is."""

    subject: str
    paragraphs: Sequence[str]
    report: str | None = None


def dutch_percent(value: float, spec: str = ".1f") -> str:
    """``14,3%``: a share as the owner reads it, with a Dutch decimal comma."""
    return f"{value:{spec}}".replace(".", ",") + "%"


def subject_of(notices: Sequence[Notice], edition_id: int | None) -> str:
    """The notice's own subject, or one naming the edition that several are about."""
    if len(notices) == 1 or edition_id is None:
        return notices[0].subject
    return f"Nieuwsbrief: {len(notices)} meldingen over editie {edition_id}"


def build_owner_message(
    newsletter: NewsletterSection,
    notices: Sequence[Notice],
    *,
    edition_id: int | None = None,
    now: datetime,
) -> bytes:
    """One mail to ``newsletter.owner_address`` as CRLF bytes (text and HTML)."""
    subject = subject_of(notices, edition_id)
    context = {
        "subject": subject,
        "notices": list(notices),
        "newsletter_name": newsletter.name,
    }
    templates = email_templates()
    return build_single_message(
        newsletter,
        to_name=None,
        to_address=newsletter.owner_address,
        subject=subject,
        text=templates.get_template("owner.txt").render(context),
        html=templates.get_template("owner.html").render(context),
        now=now,
    )
