"""What one delivery attempt came to, and the rules that turn an SMTP reply into that.

The rules are pure functions so they can be tested without a server:

* 2xx after the message text: sent.
* 4xx anywhere, a timeout or a dropped connection: deferred (retried later with backoff).
* 5xx on RCPT, DATA or after the message text: failed. Why is judged by cause by
  :mod:`newsletter.delivery.replies`, as for returned mail: only an address that is gone
  (``550 5.1.1``) marks the subscriber bounced; the reader's side for now (``552 5.2.2``
  mailbox full) is a soft bounce that adds up; our side (``550 5.7.26`` DMARC, a
  blocklist, a policy) changes nothing for the reader.
* 5xx when connecting or on MAIL FROM is our problem (relay, credentials, sender
  address), not the subscriber's, so it defers instead of failing them.

Two questions are kept apart, because real relays answer 4xx for one mailbox all the
time (greylisting ``451 4.7.1``, mailbox full ``452 4.2.2``, ``451 4.3.0``):

* *Pushback*: is the relay asking us to send slower? Only ``421`` (the relay is closing
  on us) at any stage, and replies when connecting, to MAIL, to DATA or after the message
  text whose enhanced status is ``4.7.x`` or whose text speaks of a rate, too many
  messages, slowing down, trying later, throttling or a quota (unless the status is
  ``4.1.x``/``4.2.x``: about one address or mailbox, such as a mailbox over quota).
  A 4xx on RCPT concerns one recipient and never slows the edition.
* *Soft bounce*: did this reader's mailbox refuse for now? A 4xx (other than pushback)
  on RCPT or after the message text whose cause is the reader's side (not greylisting,
  not our authentication), or a 5xx of that kind. These add up across editions (see
  ``outcomes``).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Literal

from newsletter.delivery.replies import Kind, classify_reply

Stage = Literal["connect", "mail", "rcpt", "data", "message"]

_ENHANCED_STATUS = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})\b")
_PUSHBACK_TEXT = re.compile(
    r"\brate\b|rate.?limit|too many|slow(?:ing)? down|try (?:again )?later|throttl|quota",
    re.IGNORECASE,
)
_SENDING_STAGES = frozenset({"connect", "mail", "data", "message"})
_MAILBOX_STAGES = frozenset({"rcpt", "message"})
_MAILBOX_STATUSES = ("4.1.", "4.2.")


class Outcome(enum.StrEnum):
    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Attempt:
    """The result of trying to hand one message to the relay (or the maildir).

    ``pushback`` tells the throttle the relay wants us slower; ``soft_bounce`` that this
    reader's mailbox refused for now; ``connection_failed`` counts towards giving up on
    an unreachable relay; ``bounced`` marks the address as dead.
    """

    outcome: Outcome
    reply: str
    bounced: bool = False
    pushback: bool = False
    soft_bounce: bool = False
    connection_failed: bool = False


def enhanced_status(text: str) -> str | None:
    """The RFC 3463 status code at the start of a reply text, e.g. ``"5.1.1"``."""
    match = _ENHANCED_STATUS.match(text.strip())
    return ".".join(match.groups()) if match else None


def describe(code: int, text: str) -> str:
    return f"{code} {' '.join(text.split())}".strip()


def is_pushback(code: int, text: str, stage: Stage) -> bool:
    """Whether this reply asks us to send slower (see the module docstring)."""
    if code == 421:
        return True
    if not 400 <= code < 500 or stage not in _SENDING_STAGES:
        return False
    status = enhanced_status(text) or ""
    if status.startswith(_MAILBOX_STATUSES):
        return False  # about one address or mailbox, e.g. "4.2.2 mailbox over quota"
    return status.startswith("4.7.") or bool(_PUSHBACK_TEXT.search(text))


def classify(code: int, text: str, stage: Stage) -> Attempt:
    """Turn one SMTP reply at ``stage`` into an :class:`Attempt`."""
    reply = describe(code, text)
    if 200 <= code < 300 and stage == "message":
        return Attempt(Outcome.SENT, reply)
    kind = classify_reply(code, text).kind
    if 500 <= code < 600 and stage in ("rcpt", "data", "message"):
        return Attempt(
            Outcome.FAILED, reply, bounced=kind == Kind.HARD, soft_bounce=kind == Kind.SOFT
        )
    pushback = is_pushback(code, text, stage)
    return Attempt(
        Outcome.DEFERRED,
        reply,
        pushback=pushback,
        soft_bounce=400 <= code < 500
        and not pushback
        and stage in _MAILBOX_STAGES
        and kind == Kind.SOFT,
        connection_failed=stage == "connect",
    )


def transient(reason: str, *, connection_failed: bool = False) -> Attempt:
    """A timeout, a dropped connection or a network error: try again later."""
    return Attempt(Outcome.DEFERRED, reason, connection_failed=connection_failed)
