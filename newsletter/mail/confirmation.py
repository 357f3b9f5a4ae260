"""The mails that ask a reader to confirm with a link: a sign-up ("Bevestig je
aanmelding", ``templates/emails/confirm.*``) and a new address ("Bevestig je nieuwe
e-mailadres", ``templates/emails/move.*``); and, once a new address is confirmed, the
notice to the old one (``templates/emails/moved.*``).

Built with the editions' templates environment and message code, so they carry the same
sender, policies and line lengths; the web app sends them with the single-message sender.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    subject = f"Bevestig je aanmelding voor {newsletter.name}"
    return _link_mail(newsletter, "confirm", subject, address, name, confirm_url, now)


def build_move_message(
    newsletter: NewsletterSection,
    *,
    new_address: str,
    name: str | None,
    confirm_url: str,
    now: datetime,
) -> bytes:
    """The mail to a reader's new address; until its link is followed the old one stays."""
    subject = f"Bevestig je nieuwe e-mailadres voor {newsletter.name}"
    return _link_mail(newsletter, "move", subject, new_address, name, confirm_url, now)


def build_moved_notice(
    newsletter: NewsletterSection,
    *,
    old_address: str,
    masked_new_address: str,
    name: str | None,
    now: datetime,
) -> bytes:
    """The mail to a reader's old address once the move is confirmed: whoever reads it
    there learns where the newsletter went, and can answer if it was not them."""
    subject = f"Je adres voor {newsletter.name} is gewijzigd"
    extra = {"new_address": masked_new_address}
    return _mail(newsletter, "moved", subject, old_address, name, now, extra, answerable=True)


def _link_mail(
    newsletter: NewsletterSection,
    template: str,
    subject: str,
    address: str,
    name: str | None,
    confirm_url: str,
    now: datetime,
) -> bytes:
    link = {"confirm_url": confirm_url, "valid_days": CONFIRM_MAX_AGE_DAYS}
    return _mail(newsletter, template, subject, address, name, now, link)


def _mail(
    newsletter: NewsletterSection,
    template: str,
    subject: str,
    address: str,
    name: str | None,
    now: datetime,
    extra: Mapping[str, object],
    *,
    answerable: bool = False,
) -> bytes:
    name = clean_display_name(name)
    context = {
        "name": name,
        "newsletter_name": newsletter.name,
        "signature_lines": newsletter.signature.strip("\n").splitlines(),
        **extra,
    }
    templates = email_templates()
    return build_single_message(
        newsletter,
        to_name=name,
        to_address=address,
        subject=subject,
        text=templates.get_template(f"{template}.txt").render(context),
        html=templates.get_template(f"{template}.html").render(context),
        now=now,
        answerable=answerable,
    )
