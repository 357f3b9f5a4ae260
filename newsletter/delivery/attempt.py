"""What one delivery attempt came to, and the rules that turn an SMTP reply into that.

The rules are pure functions so they can be tested without a server:

* 2xx after the message text: sent.
* 4xx anywhere, a timeout or a dropped connection: deferred (retried later with backoff).
* 5xx on RCPT, DATA or after the message text: failed; an enhanced status ``5.1.x``
  (bad mailbox, bad domain, bad syntax...) also marks the subscriber bounced.
* 5xx when connecting or on MAIL FROM is our problem (relay, credentials, sender
  address), not the subscriber's, so it defers instead of failing them.
* 421, 451 and any ``4.7.x`` mean "you are sending too fast": the sender slows down.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Literal

Stage = Literal["connect", "mail", "rcpt", "data", "message"]

_ENHANCED_STATUS = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})\b")
_PUSHBACK_CODES = frozenset({421, 451})


class Outcome(enum.StrEnum):
    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Attempt:
    """The result of trying to hand one message to the relay (or the maildir).

    ``pushback`` asks the throttle to slow down; ``connection_failed`` counts towards
    giving up on an unreachable relay; ``bounced`` marks the address as dead.
    """

    outcome: Outcome
    reply: str
    bounced: bool = False
    pushback: bool = False
    connection_failed: bool = False


def enhanced_status(text: str) -> str | None:
    """The RFC 3463 status code at the start of a reply text, e.g. ``"5.1.1"``."""
    match = _ENHANCED_STATUS.match(text.strip())
    return ".".join(match.groups()) if match else None


def describe(code: int, text: str) -> str:
    return f"{code} {' '.join(text.split())}".strip()


def classify(code: int, text: str, stage: Stage) -> Attempt:
    """Turn one SMTP reply at ``stage`` into an :class:`Attempt`."""
    reply = describe(code, text)
    status = enhanced_status(text)
    if 200 <= code < 300 and stage == "message":
        return Attempt(Outcome.SENT, reply)
    pushback = code in _PUSHBACK_CODES or bool(status and status.startswith("4.7."))
    connection_failed = stage == "connect"
    if 500 <= code < 600 and stage in ("rcpt", "data", "message"):
        bounced = bool(status and status.startswith("5.1."))
        return Attempt(Outcome.FAILED, reply, bounced=bounced)
    return Attempt(Outcome.DEFERRED, reply, pushback=pushback, connection_failed=connection_failed)


def transient(reason: str, *, connection_failed: bool = False) -> Attempt:
    """A timeout, a dropped connection or a network error: try again later."""
    return Attempt(Outcome.DEFERRED, reason, connection_failed=connection_failed)
