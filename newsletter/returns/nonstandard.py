"""Bounces that follow no standard: older Exim, qmail, Domino, the Japanese carriers,
hosting providers' own texts, and bounces a person forwarded.

Who failed is left to ``flufl.bounce`` (Mailman's detectors) rather than to expressions of
our own; why is read from the bounce's own text, next to each address, by the same reply
classifier as every other report. The text is cut where the bounce starts quoting our
message, so nothing we wrote can decide the verdict.
"""

from __future__ import annotations

import re
from email.message import Message
from email.utils import getaddresses

from flufl.bounce import all_failures

from newsletter.delivery.replies import Kind, classify_reply
from newsletter.returns.verdict import (
    Verdict,
    addresses_in,
    before_quote,
    clean_reason,
    from_reply,
    header_text,
    part_text,
)

_BOUNCE_SENDER = re.compile(r"mailer-daemon|postmaster|mail delivery (?:system|subsystem)", re.I)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|returned mail|delivery (?:status|failure|has failed|failed)|"
    r"mail delivery failed|failure notice|non.?remis|non distribuable|unzustellbar|"
    r"nicht zustellbar|onbestelbaar|niet bezorgd|kan niet worden bezorgd|"
    r"returned to sender|delivery problem|non.?remise|non délivré|échec|geweigerd|"
    r"niet afgeleverd|nachricht nicht|届きません|エラー|不達|配信",
    re.I,
)
_DELAY_WORDS = re.compile(
    r"delayed|will (?:keep|continue)|not yet been delivered|still (?:trying|being retried)|"
    r"will retry|attempts will continue|verzögert|retardé|vertraagd|遅延",
    re.I,
)
_ARRIVED = re.compile(r"was delivered to .{0,60}quarantine|has been quarantined", re.I)
_FORWARDED = re.compile(r"\s*(?:fwd?|wg|tr|doorgestuurd)\s*:", re.I)
_FORWARD_MARK = re.compile(r"^-{2,}.{0,30}(?:original|forwarded).{0,20}-{2,}\s*$", re.I | re.M)
_MAIL_SYSTEM_BOX = re.compile(r"(?:mailer-daemon|postmaster)@", re.I)
_TOO_MANY = 10


def nonstandard_verdicts(message: Message, message_ids: tuple[str, ...]) -> tuple[Verdict, ...]:
    """The verdicts on a bounce without a DSN part (none if it is no bounce)."""
    try:
        temporary, permanent = all_failures(message)
    except Exception as exc:  # a detector tripping over broken MIME is not our crash
        text = f"unreadable message: {type(exc).__name__}"
        return (Verdict(Kind.IGNORED, "unreadable", text, (), message_ids),)
    text = bounce_text(message, forwarded=_is_forwarded(message))
    named = _named_recipients(message, text)
    failed = {
        **dict.fromkeys(_failed(temporary, message, named), "4"),
        **dict.fromkeys(_failed(permanent, message, named), "5"),
    }
    if not failed and looks_like_bounce(message):
        failed = dict.fromkeys(named, "")
    if not failed:
        return ()
    if "5" not in failed.values() and _ARRIVED.search(text):
        diagnostic = clean_reason(text)
        return (Verdict(Kind.IGNORED, "delivered", diagnostic, tuple(failed), message_ids),)
    if "5" not in failed.values() and _DELAY_WORDS.search(text):
        diagnostic = clean_reason(text) or "delivery delayed"
        return (Verdict(Kind.IGNORED, "delayed", diagnostic, tuple(failed), message_ids),)
    everyone = list(failed)
    verdicts = []
    for address, class_ in failed.items():
        snippet = _snippet(text, address, everyone)
        reply = classify_reply(None, snippet, "4.0.0" if class_ == "4" else None)
        verdicts.append(
            from_reply(reply, snippet or "non-standard bounce", (address,), message_ids)
        )
    return tuple(verdicts)


def looks_like_bounce(message: Message) -> bool:
    """Sent by a mail system about a delivery, by its From and Subject."""
    if _BOUNCE_SENDER.search(header_text(message, "From")):
        return True
    return _is_forwarded(message)


def _is_forwarded(message: Message) -> bool:
    """A bounce a person forwarded to us inline (``Fwd: Undelivered Mail...``)."""
    subject = header_text(message, "Subject")
    return bool(_FORWARDED.match(subject) and _BOUNCE_SUBJECT.search(subject))


def bounce_text(message: Message, *, forwarded: bool = False) -> str:
    """The bounce's own words: its text parts up to where they quote our message (the
    forwarding person's "original message" is the bounce itself)."""
    pieces = []
    for part in message.walk():
        if part.get_content_type() == "message/rfc822":
            break
        if part.get_content_type() == "text/plain":
            text = part_text(part)
            pieces.append(before_quote(_FORWARD_MARK.sub("", text) if forwarded else text))
    return "\n".join(pieces)


def _failed(found: frozenset[bytes] | set[bytes], message: Message, named: list[str]) -> list[str]:
    """The addresses ``flufl.bounce`` found, less ours and the mail system's. Its detectors
    also scrape the quoted message, where our From, our return path and even a Message-ID
    read as addresses; where the bounce's own words name anyone, only those count."""
    decoded = (
        item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item) for item in found
    )
    own = _own_addresses(message)
    addresses = {
        address
        for text in decoded
        for address in addresses_in(text)
        if address not in own and not _MAIL_SYSTEM_BOX.match(address)
    }
    return sorted(addresses & set(named) if named else addresses)


def _named_recipients(message: Message, text: str) -> list[str]:
    """Who a bounce is about by its own words: the addresses its text names that are
    neither its own sender nor its addressee (us)."""
    own = _own_addresses(message)
    named = [
        address
        for address in addresses_in(text)
        if address not in own and not _MAIL_SYSTEM_BOX.match(address)
    ]
    return named if len(named) <= _TOO_MANY else []


def _own_addresses(message: Message) -> set[str]:
    return {
        address.lower()
        for header in ("From", "To", "Return-Path", "Sender", "Delivered-To")
        for _, address in getaddresses([str(v) for v in message.get_all(header, [])])
    }


def _snippet(text: str, address: str, everyone: list[str]) -> str:
    """What the text says about ``address``: from where it is named to where another
    failed address is (all of it when it names the address nowhere)."""
    lowered = text.lower()
    start = lowered.find(address)
    if start < 0 or len(everyone) == 1:
        return " ".join(text.split())
    ends = [
        p for other in everyone if other != address and (p := lowered.find(other, start)) > start
    ]
    return " ".join(text[start : min(ends, default=len(text))].split())
