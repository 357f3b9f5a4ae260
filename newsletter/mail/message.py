"""One subscriber's copy of an edition as RFC 5322 bytes, ready for SMTP or a maildir.

Two policies, on purpose:

* the body parts are built under ``email.policy.default``, so their quoted-printable lines
  stay at 78 characters or less (SpamAssassin's MIME_QP_LONG_LINE fires above that);
* the message is serialised with ``email.policy.SMTP`` (CRLF) and ``max_line_length=998``.
  At the usual 78, Python folds a long ``List-Unsubscribe`` into RFC 2047 encoded words,
  which mail clients do not decode, and the one-click unsubscribe button disappears.

Header values are only ever set through the email package (never by joining strings), and
it refuses CR/LF in them; recipient names are cleaned beforehand as well. The one exception
is a :class:`WireHeader`, a value made here in its final ASCII form (List-Id, Feedback-ID):
the email package would decode and re-encode it word by word, leaving a non-ASCII list
name's ":" or "(" bare in the phrase, where they mean something else.
"""

from __future__ import annotations

import email.policy
import re
from collections.abc import Sequence
from datetime import datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import urlsplit

from newsletter.config import NewsletterSection
from newsletter.content.classify import clean_display_name
from newsletter.errors import RenderError
from newsletter.mail.render import Recipient, RenderedEdition, personalise

# Long headers (List-Unsubscribe) stay unfolded and unencoded; compose.py splices against it.
SERIALISE_POLICY = email.policy.SMTP.clone(max_line_length=998)
# The kind of mail in Feedback-ID's third field: every message with the header is an edition.
FEEDBACK_KIND = "edition"
_NOT_IN_FEEDBACK_FIELD = re.compile(r"[^A-Za-z0-9._-]+")


class WireHeader(str):
    """A header value already in wire form (ASCII, no line breaks), set as it is."""


def build_message(
    edition: RenderedEdition,
    recipient: Recipient,
    newsletter: NewsletterSection,
    *,
    now: datetime,
    message_id: str | None = None,
    subject_prefix: str = "",
) -> bytes:
    """The complete message for ``recipient``: multipart/alternative, text/plain then text/html.

    ``now`` is the send time (it becomes the Date header and must carry a time zone);
    ``subject_prefix`` marks copies such as "[TEST] " for the owner.
    """
    sender = sender_address(newsletter)
    html_part, text_part = personalise(edition, recipient)
    # The mailto variant names the subscriber by the same signed token as the https URL.
    unsubscribe_token = urlsplit(recipient.unsubscribe_url).path.rstrip("/").rsplit("/", 1)[-1]
    headers: list[tuple[str, str | Address]] = [
        ("From", sender),
        ("To", address(recipient.name, recipient.email, "recipient address")),
        *_reply_to(newsletter),
        ("Subject", subject_prefix + edition.subject),
        *_date_and_id(sender, now, message_id),
        ("List-Id", list_id_header(newsletter.name, newsletter.list_id)),
        (
            "List-Unsubscribe",
            f"<{recipient.unsubscribe_url}>, "
            f"<mailto:{sender.addr_spec}?subject=unsubscribe-{unsubscribe_token}>",
        ),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("Feedback-ID", feedback_id(edition.post_slug, newsletter)),
    ]
    return mime_message(headers, text_part, html_part)


def build_single_message(
    newsletter: NewsletterSection,
    *,
    to_name: str | None,
    to_address: str,
    subject: str,
    text: str,
    html: str,
    now: datetime,
    answerable: bool = False,
) -> bytes:
    """A mail that belongs to no edition (the sign-up confirmation): same policies and
    sender, no list headers, and marked automatic so vacation replies leave it alone.
    ``answerable``: it asks the reader to reply, so a reply goes where the editions' do
    (``newsletter.reply_to``; the From address may be the unsubscribe listener's)."""
    sender = sender_address(newsletter)
    headers: list[tuple[str, str | Address]] = [
        ("From", sender),
        ("To", address(to_name, to_address, "recipient address")),
        *(_reply_to(newsletter) if answerable else ()),
        ("Subject", subject),
        *_date_and_id(sender, now, None),
        # RFC 3834: keeps vacation auto-replies from answering a mail nobody wrote by hand.
        ("Auto-Submitted", "auto-generated"),
    ]
    return mime_message(headers, text, html)


def _reply_to(newsletter: NewsletterSection) -> list[tuple[str, str | Address]]:
    if not newsletter.reply_to:
        return []
    return [("Reply-To", address(None, newsletter.reply_to, "reply_to"))]


def mime_message(headers: Sequence[tuple[str, str | Address]], text: str, html: str) -> bytes:
    """multipart/alternative, text/plain then text/html, serialised for SMTP (see above)."""
    message = EmailMessage(policy=email.policy.default)
    for name, value in headers:
        if isinstance(value, WireHeader):
            message.set_raw(name, value)
        else:
            message[name] = value
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message.as_bytes(policy=SERIALISE_POLICY)


def sender_address(newsletter: NewsletterSection) -> Address:
    return address(newsletter.from_name, newsletter.from_address, "from_address")


def _date_and_id(
    sender: Address, now: datetime, message_id: str | None
) -> list[tuple[str, str | Address]]:
    if now.tzinfo is None or now.utcoffset() is None:
        raise RenderError("the Date of a message needs a time zone; pass an aware datetime")
    return [
        ("Date", format_datetime(now)),
        ("Message-ID", message_id or make_msgid(domain=sender.domain)),
        ("MIME-Version", "1.0"),
    ]


def address(name: str | None, addr_spec: str, what: str) -> Address:
    try:
        return Address(display_name=clean_display_name(name) or "", addr_spec=addr_spec)
    except (ValueError, IndexError) as exc:
        raise RenderError(f"invalid {what} {addr_spec!r}: {exc}") from None


def list_id_header(name: str, list_id: str) -> WireHeader:
    """RFC 2919: the list's name as a phrase, then its id in angle brackets.

    An ASCII name is a quoted string; any other is RFC 2047 encoded words as a whole, so
    no character of it can end the phrase early.
    """
    phrase = clean_display_name(name)
    if phrase is None:
        return WireHeader(f"<{list_id}>")
    if phrase.isascii():
        escaped = phrase.replace("\\", "\\\\").replace('"', '\\"')
        return WireHeader(f'"{escaped}" <{list_id}>')
    encoded = Header(phrase, "utf-8").encode(maxlinelen=76)
    return WireHeader(" ".join(word.strip() for word in encoded.splitlines()) + f" <{list_id}>")


def feedback_id(post_slug: str, newsletter: NewsletterSection) -> WireHeader:
    """Gmail's ``Feedback-ID: a:b:c:SenderId``: the edition (its post's slug, as in its
    archive URL), the newsletter (its List-Id), the kind of mail and the sender, so
    Postmaster Tools shows the complaint rate of each edition. Gmail reads the fields from
    the right and splits them at ":", which none of them may hold."""
    edition = _NOT_IN_FEEDBACK_FIELD.sub("-", post_slug).strip("-") or "post"
    return WireHeader(f"{edition}:{newsletter.list_id}:{FEEDBACK_KIND}:{newsletter.sender_id}")
