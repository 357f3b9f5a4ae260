"""RFC 3464 delivery status notifications: one verdict per recipient they report.

A DSN's ``Status`` is often the reporting MTA's summary (Exim and Courier write 5.0.0 for
everything); the remote server's own words are in ``Diagnostic-Code``, and some MTAs put
them only in the human-readable part, next to the address. So each recipient is judged
by :func:`newsletter.delivery.replies.classify_reply` on its diagnostic and Status, and
when that names no cause, on the lines of the human part that follow its address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from newsletter.delivery.replies import Kind, classify_reply, status_codes
from newsletter.returns.verdict import (
    Verdict,
    before_quote,
    clean_reason,
    from_reply,
    header_text,
    part_text,
    typed_address,
)

# RFC 3464's "diagnostic-type;" before the server's words ("smtp; 550 5.1.1 ...").
_DIAGNOSTIC_TYPE = re.compile(r"^\s*[a-z][a-z0-9-]*\s*;\s*", re.IGNORECASE)
_FIELDS = ("Action", "Status", "Final-Recipient", "Original-Recipient")


@dataclass(frozen=True)
class _Recipient:
    action: str
    status: str
    addresses: tuple[str, ...]
    diagnostic: str


def delivery_status_verdicts(
    message: Message, part: Message, message_ids: tuple[str, ...]
) -> tuple[Verdict, ...]:
    """The verdicts of one ``message/delivery-status`` part (none if it names nobody)."""
    blocks = part.get_payload()
    if not isinstance(blocks, list) or len(blocks) < 2:
        return ()
    recipients = [
        _recipient(block)
        for block in blocks[1:]
        if isinstance(block, Message) and any(block.get(name) for name in _FIELDS)
    ]
    human = _human_text(message)
    everyone = [a for r in recipients for a in r.addresses]
    return tuple(
        _verdict(r, _snippet(human, r.addresses, everyone), message_ids) for r in recipients
    )


def _recipient(block: Message) -> _Recipient:
    status = next(iter(status_codes(str(block.get("Status", "")))), "")
    action = str(block.get("Action", "")).strip().lower()
    if not action:  # some MTAs (Domino) leave Action out: the class says it, else failed
        action = {"4": "delayed", "2": "delivered"}.get(status[:1], "failed")
    # Final-Recipient first; Original-Recipient too (a forwarded address: the one we
    # sent to, which the final one is not).
    addresses = tuple(
        dict.fromkeys(
            address
            for name in ("Final-Recipient", "Original-Recipient")
            if (address := typed_address(block.get(name)))
        )
    )
    diagnostic = " ".join(header_text(block, "Diagnostic-Code").split())
    return _Recipient(action, status, addresses, diagnostic)


def _verdict(recipient: _Recipient, snippet: str, message_ids: tuple[str, ...]) -> Verdict:
    addresses = recipient.addresses
    status = recipient.status or None
    diagnostic = _DIAGNOSTIC_TYPE.sub("", recipient.diagnostic)
    if recipient.action in ("delivered", "relayed", "expanded"):
        text = clean_reason(diagnostic) or "delivery report: the message arrived"
        return Verdict(Kind.IGNORED, "delivered", text, addresses, message_ids, status)
    if recipient.action == "delayed":
        text = clean_reason(diagnostic) or "delivery delayed: the server will keep trying"
        return Verdict(Kind.IGNORED, "delayed", text, addresses, message_ids, status)
    reply = classify_reply(None, diagnostic, status)
    if reply.reason == "undetermined" and snippet:
        reply = classify_reply(reply.reply_code, f"{diagnostic} {snippet}", status)
    shown = " ".join(piece for piece in (status, diagnostic or snippet) if piece)
    if status and status in diagnostic:
        shown = diagnostic
    return from_reply(reply, shown or "delivery failed", addresses, message_ids)


def _human_text(message: Message) -> str:
    """The human-readable part of the report, up to where it quotes our message."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return before_quote(part_text(part))
        if part.get_content_type().startswith("message/"):
            break
    return ""


def _snippet(human: str, addresses: tuple[str, ...], everyone: list[str]) -> str:
    """What the human part says about these addresses: from where it names one of them
    up to where it names another recipient (the whole part for a single recipient)."""
    lowered = human.lower()
    starts = [lowered.find(a) for a in addresses if a in lowered]
    if len(set(everyone)) <= len(addresses):
        return " ".join(human.split())
    if not starts:
        return ""
    start = min(starts)
    others = [a for a in everyone if a not in addresses]
    ends = [position for other in others if (position := lowered.find(other, start + 1)) > start]
    return " ".join(human[start : min(ends, default=len(human))].split())
