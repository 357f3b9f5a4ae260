"""The double opt-in mail ("Bevestig je aanmelding") and the port it leaves through.

The message is built here, from ``templates/emails/confirm.{txt,html}``; sending it is the
job of whatever :class:`ConfirmationMailer` the app was given (the delivery engine's
one-message send in production, a test SMTP server in the tests). Keeping the transport
behind this port means the web door never opens an SMTP connection of its own.
"""

from __future__ import annotations

import email.policy
import functools
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..config import Settings
from ..render import clean_display_name, find_templates_dir

CONFIRM_MAX_AGE_DAYS = 7


class ConfirmationMailer(Protocol):
    """Sends one finished message (RFC 5322 bytes) to one recipient; raises when it cannot."""

    async def __call__(self, message: bytes, *, sender: str, recipient: str) -> None: ...


@functools.cache
def _environment(templates_dir: Path) -> Environment:
    return Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(enabled_extensions=("html",)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def build_confirmation_message(
    settings: Settings, *, address: str, name: str | None, confirm_url: str, now: datetime
) -> bytes:
    """The confirmation mail for one sign-up as CRLF bytes, text and HTML alternatives."""
    newsletter = settings.newsletter
    sender = Address(
        display_name=clean_display_name(newsletter.from_name) or "",
        addr_spec=newsletter.from_address,
    )
    name = clean_display_name(name)
    context = {
        "name": name,
        "newsletter_name": newsletter.name,
        "confirm_url": confirm_url,
        "valid_days": CONFIRM_MAX_AGE_DAYS,
        "signature_lines": newsletter.signature.strip("\n").splitlines(),
    }
    environment = _environment(find_templates_dir())
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = sender
    message["To"] = Address(display_name=name or "", addr_spec=address)
    message["Subject"] = f"Bevestig je aanmelding voor {newsletter.name}"
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.domain)
    message["MIME-Version"] = "1.0"
    # RFC 3834: keeps vacation auto-replies from answering a mail nobody wrote by hand.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        environment.get_template("confirm.txt").render(context),
        subtype="plain",
        charset="utf-8",
        cte="quoted-printable",
    )
    message.add_alternative(
        environment.get_template("confirm.html").render(context),
        subtype="html",
        charset="utf-8",
        cte="quoted-printable",
    )
    return message.as_bytes()
