"""What a returned message comes to (:class:`Verdict`), and the small readings every kind
of report shares: a part's text, an address out of a header, a diagnostic made safe.

Its own module so the readers of each format (``dsn``, ``arf``, ``nonstandard``,
``notices``) and ``parse``, which chooses between them, all build the same thing without
importing each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.header import decode_header
from email.headerregistry import Address
from email.message import Message

from newsletter.content.classify import clean_text
from newsletter.delivery.replies import Kind, Reply

_ADDRESS = re.compile(r"[^\s<>@;:,\"'()\[\]]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_QUOTED_ADDRESS = re.compile(r"<?[^\s<>@;:,\"']+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}>?")
_MAX_REASON = 300
# A multi-line SMTP reply, joined: every line after the first repeats "550-5.1.1 ".
_REPLY_CODE = re.compile(r"\b([245]\d\d)[- ]([245]\.\d{1,3}\.\d{1,3}) ")
# What a report says about its failures is near its top; past this it is read no further
# (a 5 MB text "bounce" cost seconds in every pattern).
READ_AT_MOST = 20_000
_CUT_ADDRESS = re.compile(r"\S*@\S*$")
# Where a report stops speaking for itself and starts quoting our message.
_QUOTE_STARTS = re.compile(
    r"^[ \t>]*(?:-{2,}.{0,40}(?:copy of the message|original message|returned message|"
    r"undelivered message|message headers|header of the original|mensaje original|"
    r"ursprüngliche nachricht|message d'origine|oorspronkelijk bericht|元のメッセージ)|"
    r"-{3,} ?Below this line)|^(?:Received|Return-Path|Message-ID|DKIM-Signature):\s",
    re.IGNORECASE | re.MULTILINE,
)

__all__ = ["Kind", "Verdict"]


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


def from_reply(
    reply: Reply, diagnostic: str, recipients: tuple[str, ...], message_ids: tuple[str, ...]
) -> Verdict:
    """The verdict on a failure the reply classifier judged."""
    return Verdict(
        reply.kind,
        reply.reason,
        clean_reason(diagnostic),
        recipients,
        message_ids,
        reply.status,
        reply.reply_code,
    )


def part_text(part: Message) -> str:
    """A part's decoded text in its own charset ("" for none)."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


def before_quote(text: str) -> str:
    """``text`` up to where it quotes the returned message (what we wrote decides nothing),
    and no further than :data:`READ_AT_MOST` characters."""
    text = text[:READ_AT_MOST]
    cut = _QUOTE_STARTS.search(text)
    return text[: cut.start()] if cut else text


def header_text(message: Message, name: str) -> str:
    """A header decoded: ``=?utf-8?B?...?=`` subjects of German, French and Japanese
    systems, and raw UTF-8 (RFC 6533 diagnostics), which compat32 keeps as unknown bytes."""
    value = message.get(name)
    if value is None:
        return ""
    try:
        chunks = decode_header(value)
    except (ValueError, LookupError, UnicodeError):
        return str(value)
    return "".join(_chunk_text(chunk, charset) for chunk, charset in chunks)


def _chunk_text(chunk: bytes | str, charset: str | None) -> str:
    if isinstance(chunk, str):
        return chunk
    try:
        return chunk.decode(charset or "ascii", "replace")
    except LookupError:  # "unknown-8bit", or a charset Python does not know
        return chunk.decode("utf-8", "replace")


def typed_address(value: object) -> str:
    """``rfc822; someone@example.org`` (RFC 3464 address-type; address) → the address."""
    if value is None:
        return ""
    text = str(value)
    kind, semicolon, address = text.partition(";")
    if semicolon and kind.strip().lower() != "rfc822":
        return ""
    return plain_address(address if semicolon else text)


def plain_address(text: str) -> str:
    """The first address in ``text``, lowercase ("" if there is none)."""
    match = _ADDRESS.search(text)
    if match is None:
        return ""
    try:
        return str(Address(addr_spec=match[0]).addr_spec).lower()
    except (ValueError, IndexError):
        return match[0].lower()


def addresses_in(text: str) -> list[str]:
    """Every address in ``text``, lowercase, in order, once."""
    return list(dict.fromkeys(found.lower() for found in _ADDRESS.findall(text)))


def clean_reason(text: str) -> str:
    """Reasons are printed in terminals and tables: one line, no control characters
    (a report is written by whoever sent it, escape sequences included). Addresses are
    taken out: the report is linked to the reader, and erasing a reader (GDPR) must not
    leave their address behind in a reason."""
    if len(text) > _MAX_REASON * 4:  # cut before cleaning, and no half address kept
        text = _CUT_ADDRESS.sub("", text[: _MAX_REASON * 4])
    cleaned = _one_reply_code(_QUOTED_ADDRESS.sub("<address>", clean_text(text)))
    if len(cleaned) <= _MAX_REASON:
        return cleaned
    return cleaned[: _MAX_REASON - 1].rsplit(" ", 1)[0] + "\u2026"


def _one_reply_code(text: str) -> str:
    """``550-5.1.1 The account ... Please try 550-5.1.1 double-checking`` as a person
    reads it: the reply's code once, where it starts, not at every line it was sent in."""
    first = _REPLY_CODE.search(text)
    if first is None:
        return text
    again = re.compile(rf"\b{first[1]}[- ]{re.escape(first[2])} ")
    head = f"{text[: first.start()]}{first[1]} {first[2]} "
    return head + again.sub("", text[first.end() :])
