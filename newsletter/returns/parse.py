"""What a message that came back means: a hard bounce, a soft bounce, a complaint, or nothing.

Pure: raw bytes in, a :class:`Verdict` out; no database, no network. The order matters:

1. Structure first. An RFC 3464 delivery status notification (``multipart/report`` with a
   ``message/delivery-status`` part) and an RFC 5965 abuse report (a
   ``message/feedback-report`` part) say exactly what happened, per recipient. Mail
   servers mark their bounces ``Auto-Submitted: auto-replied`` too, so those headers are
   only looked at after the structure.
2. Bounces that follow no standard (older Exim, qmail, Microsoft and hosting providers'
   own texts) are left to ``flufl.bounce``, Mailman's detectors, rather than to regular
   expressions of our own.
3. Everything else (an out-of-office or vacation reply, a person writing) is not a bounce.

Hard or soft: a permanent failure (``5.x.x``) of the *address* is hard. A full mailbox
(``5.2.2``), a message too big (``5.2.3``, ``5.3.4``) and a policy refusal (``5.7.x``:
spam filter, DMARC; about the sender, not the address) are soft, as are ``4.x.x`` and
"delayed": they remove a reader only when they repeat (see ``returns.apply``).

``returns.match`` finds the delivery: by the VERP token of the envelope recipient, else by
one of our Message-IDs, which :attr:`Verdict.message_ids` lists as found in the returned
headers (never the report's own Message-ID).

Anyone can write what comes back, so reading it is bounded (:func:`parse_bounded`): a
message over :data:`MAX_MESSAGE_BYTES` or nested deeper than :data:`MAX_DEPTH` is
:class:`UnreadableMessageError`, for each way in to set aside while the rest go on.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from email.feedparser import BytesFeedParser
from email.headerregistry import Address
from email.message import Message
from email.parser import HeaderParser
from email.policy import Policy, compat32
from email.utils import getaddresses

from flufl.bounce import all_failures

from newsletter.content.classify import clean_text
from newsletter.errors import NotAMailError, UnreadableMessageError

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_MESSAGE_ID = re.compile(r"^\s*Message-ID:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_ADDRESS = re.compile(r"[^\s<>@;:,\"']+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_SOFT_PERMANENT = ("5.2.2", "5.2.3", "5.3.4")
# Feedback types (RFC 5965 and its registry) that are a reader calling our mail unwanted.
_COMPLAINT_TYPES = frozenset({"abuse", "fraud", "virus", "other"})
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
_MAX_REASON = 300
# A bounce carries the returned message at most; a 30 MB "bounce" is none.
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
# A bounce is four parts deep (report, returned message, its alternative, text). The
# parser recurses once per level and checks every line against every open boundary: 3,000
# levels raised RecursionError, 900 levels of a 1 MB message took 73 s.
MAX_DEPTH = 16
_QUOTED_ADDRESS = re.compile(r"<?[^\s<>@;:,\"']+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}>?")


class _BoundedParser(BytesFeedParser):
    """The standard parser, stopping at :data:`MAX_DEPTH` levels while it parses: checked
    afterwards, the recursion and the time would already have been spent."""

    def _new_message(self) -> None:
        # FeedParser's private step for each new part; _msgstack holds the open ones.
        if len(self._msgstack) >= MAX_DEPTH:  # type: ignore[attr-defined]
            raise UnreadableMessageError(f"nested more than {MAX_DEPTH} parts deep")
        super()._new_message()  # type: ignore[misc]


class Kind(enum.StrEnum):
    """What a returned message means for the reader: only ``hard`` drops them at once;
    ``sender`` is our side (blocked, authentication, policy) and leaves them as they are."""

    HARD = "hard"
    SOFT = "soft"
    SENDER = "sender"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"
    IGNORED = "ignored"


@dataclass(frozen=True)
class Verdict:
    """What came back: ``recipients`` are the failed (or complaining) original addresses
    the report names; ``message_ids`` are Message-IDs found in the returned headers.

    Without a VERP token the caller ties a report to a delivery only by one of our
    Message-IDs together with a recipient that is that delivery's reader: a DSN's
    Final-Recipient and Original-Recipient (``rfc822;`` addresses of the failed or
    delayed recipients), an ARF report's Original-Rcpt-To (else the To of the returned
    headers), or the addresses ``flufl.bounce`` found in a bounce that follows no
    standard.

    ``reason`` is the cause as a short category name (``userunknown``, ``mailboxfull``,
    ``blocked``...); ``diagnostic`` is what the reporting system wrote, made one safe line.
    """

    kind: Kind
    reason: str
    diagnostic: str = ""
    recipients: tuple[str, ...] = ()
    message_ids: tuple[str, ...] = ()
    status: str | None = None
    reply_code: int | None = None


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
        return any(verdict.kind != Kind.IGNORED for verdict in classify(raw))
    except NotAMailError:
        return False


def classify_message(message: Message) -> tuple[Verdict, ...]:
    """At least one verdict; one per recipient where the report names several."""
    return (_verdict(message),)


def _verdict(message: Message) -> Verdict:
    message_ids = _returned_message_ids(message)
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/feedback-report":
            return _complaint(message, part, message_ids)
        if kind == "message/delivery-status":
            verdict = _delivery_status(part, message_ids)
            if verdict is not None:
                return verdict
    try:
        temporary, permanent = all_failures(message)
    except Exception as exc:  # a detector tripping over broken MIME is not our crash
        return Verdict(
            Kind.IGNORED, "unreadable", f"unreadable message: {type(exc).__name__}", (), message_ids
        )
    if permanent:
        return Verdict(
            Kind.HARD,
            "userunknown",
            "non-standard bounce: permanent failure",
            _addresses(permanent),
            message_ids,
        )
    if temporary:
        return Verdict(
            Kind.SOFT,
            "undetermined",
            "non-standard bounce: temporary failure",
            _addresses(temporary),
            message_ids,
        )
    if _is_auto_reply(message):
        return Verdict(
            Kind.IGNORED, "autoreply", "automatic reply (out of office, vacation)", (), message_ids
        )
    return Verdict(Kind.IGNORED, "notabounce", "not a bounce or complaint", (), message_ids)


def envelope_candidates(message: Message) -> list[str]:
    """Where a delivered message says it was delivered to, best first: every
    ``Delivered-To``, then ``X-Original-To``, then ``To`` (for ``bounces process``)."""
    found: list[str] = []
    for header in ("Delivered-To", "X-Original-To", "To"):
        for _, address in getaddresses([str(value) for value in message.get_all(header, [])]):
            if address and address not in found:
                found.append(address)
    return found


def _delivery_status(part: Message, message_ids: tuple[str, ...]) -> Verdict | None:
    blocks = part.get_payload()
    if not isinstance(blocks, list) or len(blocks) < 2:
        return None
    failed: list[tuple[str, tuple[str, ...], str]] = []  # (status, addresses, diagnostic)
    delayed: list[tuple[str, tuple[str, ...], str]] = []
    delivered = False
    for block in blocks[1:]:
        if not isinstance(block, Message):
            continue
        action = str(block.get("Action", "")).strip().lower()
        status_match = _STATUS.search(str(block.get("Status", "")))
        status = ".".join(status_match.groups()) if status_match else ""
        # Final-Recipient first; Original-Recipient too (a forwarded address: the one
        # we sent to, which the final one is not).
        addresses = tuple(
            address
            for name in ("Final-Recipient", "Original-Recipient")
            if (address := _typed_address(block.get(name)))
        )
        diagnostic = clean_reason(str(block.get("Diagnostic-Code", "")).partition(";")[2])
        entry = (status, addresses, diagnostic)
        if action == "failed":
            failed.append(entry)
        elif action == "delayed":
            delayed.append(entry)
        elif action in ("delivered", "relayed", "expanded"):
            delivered = True
    if failed:
        hard = [entry for entry in failed if _is_hard(entry[0])]
        chosen = hard or failed
        status, _, diagnostic = chosen[0]
        recipients = tuple(dict.fromkeys(a for _, addresses, _ in chosen for a in addresses))
        kind, reason = (Kind.HARD, "userunknown") if hard else (Kind.SOFT, "undetermined")
        text = _reason(status, diagnostic, "delivery failed")
        return Verdict(kind, reason, text, recipients, message_ids, status)
    if delayed:
        status, _, diagnostic = delayed[0]
        recipients = tuple(dict.fromkeys(a for _, addresses, _ in delayed for a in addresses))
        text = _reason(status, diagnostic, "delivery delayed")
        return Verdict(Kind.SOFT, "delayed", text, recipients, message_ids, status or None)
    if delivered:
        return Verdict(
            Kind.IGNORED, "delivered", "delivery report: the message arrived", (), message_ids
        )
    return None


def _complaint(message: Message, part: Message, message_ids: tuple[str, ...]) -> Verdict:
    fields = part.get_payload()
    report = fields[0] if isinstance(fields, list) and fields else None
    if not isinstance(report, Message):
        return Verdict(
            Kind.IGNORED, "notabounce", "feedback report without fields", (), message_ids
        )
    feedback_type = str(report.get("Feedback-Type", "")).strip().lower()
    if feedback_type not in _COMPLAINT_TYPES:
        text = f"feedback report of type {feedback_type or '?'}"
        return Verdict(Kind.IGNORED, "notabounce", text, (), message_ids)
    recipients = [
        address
        for value in report.get_all("Original-Rcpt-To", [])
        if (address := _plain_address(str(value)))
    ]
    if not recipients:
        returned = _returned_headers(message)
        if returned is not None:
            recipients = [
                address
                for _, address in getaddresses([str(v) for v in returned.get_all("To", [])])
                if address
            ]
    agent = clean_reason(str(report.get("User-Agent", "")))
    text = f"complaint ({feedback_type})" + (f" reported by {agent}" if agent else "")
    reason = "virusreport" if feedback_type == "virus" else feedback_type
    return Verdict(Kind.COMPLAINT, reason, text, tuple(r.lower() for r in recipients), message_ids)


def _returned_headers(message: Message) -> Message | None:
    """The headers of the message that came back, from the first part that holds them."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return inner[0]
        if kind == "text/rfc822-headers":
            text = _text(part)
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
            found.extend(_MESSAGE_ID.findall(_text(part)))
    if not message.is_multipart():
        found.extend(_MESSAGE_ID.findall(_text(message)))
    return tuple(dict.fromkeys(value for value in found if value.startswith("<")))


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


def _is_hard(status: str) -> bool:
    return status.startswith("5.") and not (status.startswith("5.7.") or status in _SOFT_PERMANENT)


def _is_auto_reply(message: Message) -> bool:
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return (
        auto not in ("", "no")
        or precedence in ("auto_reply", "bulk", "junk")
        or any(message.get(name) is not None for name in ("X-Autoreply", "X-Autorespond"))
    )


def _typed_address(value: object) -> str:
    """``rfc822; someone@example.org`` (RFC 3464 address-type; address) → the address."""
    if value is None:
        return ""
    text = str(value)
    kind, semicolon, address = text.partition(";")
    if semicolon and kind.strip().lower() != "rfc822":
        return ""
    return _plain_address(address if semicolon else text)


def _plain_address(text: str) -> str:
    match = _ADDRESS.search(text)
    if match is None:
        return ""
    try:
        return str(Address(addr_spec=match[0]).addr_spec).lower()
    except (ValueError, IndexError):
        return match[0].lower()


def _addresses(found: frozenset[bytes] | set[bytes]) -> tuple[str, ...]:
    addresses = (
        _plain_address(item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item))
        for item in found
    )
    return tuple(sorted({address for address in addresses if address}))


def _reason(status: str, diagnostic: str, fallback: str) -> str:
    if status and status in diagnostic:
        status = ""
    return clean_reason(" ".join(piece for piece in (status, diagnostic) if piece) or fallback)


def clean_reason(text: str) -> str:
    """Reasons are printed in terminals and tables: one line, no control characters
    (a report is written by whoever sent it, escape sequences included). Addresses are
    taken out: the report is linked to the reader, and erasing a reader (GDPR) must not
    leave their address behind in a reason."""
    return _QUOTED_ADDRESS.sub("<address>", clean_text(text))[:_MAX_REASON]
