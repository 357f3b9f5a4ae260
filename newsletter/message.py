"""One subscriber's copy of an edition as RFC 5322 bytes, ready for SMTP or a maildir.

Two policies, on purpose:

* the body parts are built under ``email.policy.default``, so their quoted-printable lines
  stay at 78 characters or less (SpamAssassin's MIME_QP_LONG_LINE fires above that);
* the message is serialised with ``email.policy.SMTP`` (CRLF) and ``max_line_length=998``.
  At the usual 78, Python folds a long ``List-Unsubscribe`` into RFC 2047 encoded words,
  which mail clients do not decode, and the one-click unsubscribe button disappears.

Header values are only ever set through the email package (never by joining strings), and
it refuses CR/LF in them; recipient names are cleaned beforehand as well.
"""

from __future__ import annotations

import email.policy
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import urlsplit

from .config import Settings
from .errors import RenderError
from .render import Recipient, RenderedEdition, clean_display_name, personalise

# Long headers (List-Unsubscribe) stay unfolded and unencoded; compose.py splices against it.
SERIALISE_POLICY = email.policy.SMTP.clone(max_line_length=998)


def build_message(
    edition: RenderedEdition,
    recipient: Recipient,
    settings: Settings,
    *,
    now: datetime,
    message_id: str | None = None,
    subject_prefix: str = "",
) -> bytes:
    """The complete message for ``recipient``: multipart/alternative, text/plain then text/html.

    ``now`` is the send time (it becomes the Date header and must carry a time zone);
    ``subject_prefix`` marks copies such as "[TEST] " for the owner.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise RenderError("the Date of a message needs a time zone; pass an aware datetime")
    newsletter = settings.newsletter
    sender = _address(newsletter.from_name, newsletter.from_address, "from_address")
    html_part, text_part = personalise(edition, recipient)
    # The mailto variant names the subscriber by the same signed token as the https URL.
    unsubscribe_token = urlsplit(recipient.unsubscribe_url).path.rstrip("/").rsplit("/", 1)[-1]

    message = EmailMessage(policy=email.policy.default)
    message["From"] = sender
    message["To"] = _address(recipient.name, recipient.email, "recipient address")
    if newsletter.reply_to:
        message["Reply-To"] = _address(None, newsletter.reply_to, "reply_to")
    message["Subject"] = subject_prefix + edition.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id or make_msgid(domain=sender.domain)
    message["MIME-Version"] = "1.0"
    message["List-Id"] = _list_id(newsletter.name, newsletter.list_id)
    message["List-Unsubscribe"] = (
        f"<{recipient.unsubscribe_url}>, "
        f"<mailto:{sender.addr_spec}?subject=unsubscribe-{unsubscribe_token}>"
    )
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text_part, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html_part, subtype="html", charset="utf-8", cte="quoted-printable")
    return message.as_bytes(policy=SERIALISE_POLICY)


def _address(name: str | None, addr_spec: str, what: str) -> Address:
    try:
        return Address(display_name=clean_display_name(name) or "", addr_spec=addr_spec)
    except (ValueError, IndexError) as exc:
        raise RenderError(f"invalid {what} {addr_spec!r}: {exc}") from None


def _list_id(name: str, list_id: str) -> str:
    """RFC 2919: an optional phrase, then the list's id in angle brackets."""
    phrase = clean_display_name(name)
    if phrase is None:
        return f"<{list_id}>"
    if phrase.isascii():
        escaped = phrase.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}" <{list_id}>'
    return f"{phrase} <{list_id}>"
