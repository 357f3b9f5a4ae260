"""What a message that came back means: which readers it names, and for each a verdict.

Pure: raw bytes in, :class:`Verdict` objects out; no database, no network. The order matters:

1. Structure first. An RFC 5965 feedback report (``returns.arf``) and an RFC 3464
   delivery status notification (``returns.dsn``, one verdict per recipient) say exactly
   what happened. A report forwarded as an attachment is found the same way.
2. A mail client's unsubscribe mail: Apple Mail's header, or our ``mailto:`` subject
   (``returns.notices``).
3. Bounces that follow no standard (``returns.nonstandard``): ``flufl.bounce`` finds the
   addresses, their own text the cause. Mail servers mark their bounces
   ``Auto-Submitted: auto-replied`` too, so auto-reply headers are only looked at after
   this; an auto-reply's *wording* is looked at before, as ``flufl.bounce`` takes some for
   bounces.
4. A complaint written by hand that quotes our message; then automatic replies; then
   everything else is not a bounce.

Every failure is judged by cause by ``delivery.replies`` (the one classifier of a reply,
shared with the send): only an address that is gone is ``hard``.

``returns.match`` finds the delivery: by the VERP token of the envelope recipient, else by
one of our Message-IDs, which :attr:`Verdict.message_ids` lists as found in the returned
headers (never the report's own Message-ID).

Anyone can write what comes back, so reading it is bounded (:func:`parse_bounded`): a
message over :data:`MAX_MESSAGE_BYTES` or nested deeper than :data:`MAX_DEPTH` is
:class:`UnreadableMessageError`, for each way in to set aside while the rest go on.
"""

from __future__ import annotations

import re
from email.feedparser import BytesFeedParser
from email.message import Message
from email.parser import HeaderParser
from email.policy import Policy, compat32
from email.utils import getaddresses

from newsletter.delivery.replies import Kind
from newsletter.errors import NotAMailError, UnreadableMessageError
from newsletter.returns.arf import feedback_verdict
from newsletter.returns.dsn import delivery_status_verdicts
from newsletter.returns.nonstandard import looks_like_bounce, nonstandard_verdicts
from newsletter.returns.notices import (
    abuse_report,
    apple_unsubscribe,
    has_auto_reply_headers,
    has_auto_reply_wording,
)
from newsletter.returns.verdict import Verdict, clean_reason, part_text

__all__ = ["Kind", "Verdict", "classify", "classify_message", "clean_reason"]

_MESSAGE_ID = re.compile(r"^[\s>]*Message-ID:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_AUTO_REPLY = "automatic reply (out of office, vacation)"
# Headers of which a real message has at least one; a file with none of them is no mail.
_MAIL_HEADERS = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "received",
    "return-path",
    "delivered-to",
    "x-original-to",
    "mime-version",
    "content-type",
)
# A bounce carries the returned message at most; a 30 MB "bounce" is none.
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
# A bounce is four parts deep (report, returned message, its alternative, text). The
# parser recurses once per level and checks every line against every open boundary: 3,000
# levels raised RecursionError, 900 levels of a 1 MB message took 73 s.
MAX_DEPTH = 16


class _BoundedParser(BytesFeedParser):
    """The standard parser, stopping at :data:`MAX_DEPTH` levels while it parses: checked
    afterwards, the recursion and the time would already have been spent."""

    def _new_message(self) -> None:
        # FeedParser's private step for each new part; _msgstack holds the open ones.
        if len(self._msgstack) >= MAX_DEPTH:  # type: ignore[attr-defined]
            raise UnreadableMessageError(f"nested more than {MAX_DEPTH} parts deep")
        super()._new_message()  # type: ignore[misc]


def parse(raw: bytes) -> Message:
    """The message (compat32, as ``flufl.bounce`` expects); :class:`NotAMailError` if none,
    :class:`UnreadableMessageError` if it is too big or too deep to read."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise UnreadableMessageError(f"larger than {MAX_MESSAGE_BYTES // (1024 * 1024)} MB")
    if not raw.strip() or b"\0" in raw[:8192]:
        raise NotAMailError("not an e-mail message (empty or binary)")
    message = parse_bounded(raw)
    if not any(message.get(name) is not None for name in _MAIL_HEADERS):
        raise NotAMailError("not an e-mail message (no mail headers)")
    return message


def parse_bounded(raw: bytes, policy: Policy[Message] = compat32) -> Message:
    """Mail from anyone, parsed at most :data:`MAX_DEPTH` parts deep (else
    :class:`UnreadableMessageError`); every parse of inbound mail goes through here."""
    parser = _BoundedParser(policy=policy)
    parser.feed(raw)
    return parser.close()


def classify(raw: bytes) -> tuple[Verdict, ...]:
    """The verdicts on one raw message; :class:`NotAMailError` for something that is no mail."""
    return classify_message(parse(raw))


def is_report(raw: bytes) -> bool:
    """Whether mail that reached an address readers may write to (``from_address``) is a
    bounce or complaint by its looks; False for something that is no mail."""
    try:
        return any(_is_a_report(verdict) for verdict in classify(raw))
    except NotAMailError:
        return False


def _is_a_report(verdict: Verdict) -> bool:
    """A mail client's unsubscribe mail is not: it carries our signed token, which the
    listener reads (a From anyone can write is no proof of who wants out)."""
    return verdict.kind != Kind.IGNORED and verdict.reason != "listunsubscribe"


def classify_message(message: Message) -> tuple[Verdict, ...]:
    """At least one verdict; one per recipient where the report names several."""
    message_ids = _returned_message_ids(message)
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/feedback-report":
            return (feedback_verdict(part, _returned_headers(message), message_ids),)
        if kind == "message/delivery-status":
            verdicts = delivery_status_verdicts(message, part, message_ids)
            if verdicts:
                return verdicts
    unsubscribe = apple_unsubscribe(message, message_ids)
    if unsubscribe is not None:
        return (unsubscribe,)
    if not looks_like_bounce(message) and has_auto_reply_wording(message):
        return (Verdict(Kind.IGNORED, "autoreply", _AUTO_REPLY, (), message_ids),)
    verdicts = nonstandard_verdicts(message, message_ids)
    if verdicts:
        return verdicts
    complaint = abuse_report(message, _returned_headers(message), message_ids)
    if complaint is not None:
        return (complaint,)
    if has_auto_reply_headers(message) or has_auto_reply_wording(message):
        return (Verdict(Kind.IGNORED, "autoreply", _AUTO_REPLY, (), message_ids),)
    return (Verdict(Kind.IGNORED, "notabounce", "not a bounce or complaint", (), message_ids),)


def envelope_candidates(message: Message) -> list[str]:
    """Where a delivered message says it was delivered to, best first: every
    ``Delivered-To``, then ``X-Original-To``, then ``To`` (for ``bounces process``)."""
    found: list[str] = []
    for header in ("Delivered-To", "X-Original-To", "To"):
        for _, address in getaddresses([str(value) for value in message.get_all(header, [])]):
            if address and address not in found:
                found.append(address)
    return found


def _returned_headers(message: Message) -> Message | None:
    """The headers of the message that came back, from the first part that holds them."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return inner[0]
        if kind == "text/rfc822-headers":
            text = part_text(part)
            if text:  # headers only: what follows them is anyone's text, not parsed
                return HeaderParser(policy=compat32).parsestr(text, headersonly=True)
    return None


def _returned_message_ids(message: Message) -> tuple[str, ...]:
    """Message-IDs quoted anywhere below the top-level headers: returned parts, or the
    headers a plain-text bounce quotes in its body."""
    found: list[str] = []
    for part in message.walk():
        if part is message:
            continue
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                value = inner[0].get("Message-ID")
                if value:
                    found.append(str(value).strip())
        elif part.get_content_maintype() == "text":
            found.extend(_MESSAGE_ID.findall(part_text(part)))
    if not message.is_multipart():
        found.extend(_MESSAGE_ID.findall(part_text(message)))
    return tuple(dict.fromkeys(value for value in found if value.startswith("<")))
