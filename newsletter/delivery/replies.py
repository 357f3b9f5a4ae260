"""What a mail server's refusal means: the one classifier of a reply, wherever it is heard.

A reply (an SMTP reply during the send, a DSN's Status and Diagnostic-Code, the text of a
bounce that follows no standard, a relay's webhook) becomes a :class:`Reply`: a
:class:`Kind` and a short reason. Pure, and below ``returns`` in the layers so the send
and the returned mail judge alike.

Why by cause and not by the first digit: a ``5xx`` says the server will not take *this*
message, not that the address is gone. A blocklisted IP, a failed DMARC check or a full
mailbox all come back as ``550``; dropping the reader for them would unsubscribe every
reader of a provider on one bad day. So:

* The enhanced status code (RFC 3463, RFC 7372) decides when it is specific: ``5.1.1`` is
  an unknown user whatever the text adds. A generic one (``x.0.0``), a ``5.7.x`` (any
  policy refusal) or none leaves it to the text.
* The codes in the text count: a ``Status: 5.0.0`` whose diagnostic says ``5.2.2`` is a
  full mailbox. The first specific code in the diagnostic beats the DSN's Status (the
  remote server said it; the reporting MTA only summed it up).
* Text is read in tiers, most telling first: our side named outright (a blocklist,
  SPF/DKIM/DMARC, PTR, a virus...), then the reader's side for now (full, too big,
  suspended, expired), then the address gone, then vaguer refusals ("rejected",
  "policy"), then system and network trouble.
* ``hard`` needs a permanent failure: a ``4xx`` is never hard. A permanent failure whose
  cause nothing names is ``soft``/``undetermined``: counted, never dropped at once.

The wordings are those of Postfix, Exim, Sendmail, qmail, Exchange and Office 365, Gmail,
Yahoo, Outlook.com, GMX, Orange, the Japanese carriers and the filtering gateways, in
English, German, French, Dutch and Japanese, as their documentation and published
bounces show them.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from newsletter.delivery import wordings


class Kind(enum.StrEnum):
    """What a returned message means for the reader: only ``hard`` drops them at once;
    ``sender`` is our side (blocked, authentication, policy) and leaves them as they are."""

    HARD = "hard"
    SOFT = "soft"
    SENDER = "sender"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class Reply:
    """A classified reply: ``status`` is the enhanced code that decided (or the best one
    seen), ``reply_code`` the three-digit SMTP code when there was one."""

    kind: Kind
    reason: str
    status: str | None = None
    reply_code: int | None = None


# RFC 3463 subjects are 0 to 7: "Exim 4.94.2" in a bounce is a version, not a status.
_STATUS = re.compile(r"(?<![\d.])([245])\.([0-7])\.(\d{1,3})(?![\d.]*\d)")
# A server's reason is a line or a paragraph; the rest of a long text (anyone can write a
# 10 MB "bounce") is not read: 300 patterns over 5 MB took 20 s.
READ_AT_MOST = 4096
_REPLY_CODE = re.compile(r"^\W*(?:smtp\s*;\s*)?(?:\w+ said:\s*)?([245][0-5]\d)(?![\d.])", re.I)

# The specific enhanced codes and what they say on their own, by subject.x.detail.
_BY_STATUS: dict[str, tuple[Kind, str]] = {
    "1.1": (Kind.HARD, "userunknown"),
    "1.3": (Kind.HARD, "userunknown"),
    "1.2": (Kind.HARD, "hostunknown"),
    "1.10": (Kind.HARD, "hostunknown"),
    "4.4": (Kind.HARD, "hostunknown"),
    "1.6": (Kind.HARD, "hasmoved"),
    "1.7": (Kind.SENDER, "policy"),  # our sender address is bad
    "1.8": (Kind.SENDER, "policy"),
    "2.1": (Kind.SOFT, "suspended"),
    "2.2": (Kind.SOFT, "mailboxfull"),
    "2.3": (Kind.SOFT, "toobig"),
    "2.4": (Kind.SOFT, "systemerror"),
    "3.1": (Kind.SOFT, "systemerror"),
    "3.2": (Kind.SOFT, "systemerror"),
    "3.3": (Kind.SENDER, "contentrejected"),
    "3.4": (Kind.SOFT, "toobig"),
    "3.5": (Kind.SOFT, "systemerror"),
    "4.2": (Kind.SOFT, "networkerror"),
    "4.3": (Kind.SOFT, "systemerror"),
    "4.5": (Kind.SOFT, "systemerror"),
    "4.6": (Kind.SOFT, "networkerror"),
    "4.7": (Kind.SOFT, "expired"),
    "5.3": (Kind.SENDER, "ratelimited"),  # too many recipients
    "7.8": (Kind.SENDER, "authfailure"),
    "7.10": (Kind.SENDER, "tlsrequired"),
    "7.11": (Kind.SENDER, "tlsrequired"),
    "7.23": (Kind.SENDER, "authfailure"),
    "7.24": (Kind.SENDER, "authfailure"),
    "7.25": (Kind.SENDER, "reversedns"),
    "7.26": (Kind.SENDER, "authfailure"),
    "7.27": (Kind.SENDER, "authfailure"),
    "7.28": (Kind.SENDER, "ratelimited"),
}
# Codes whose subject or detail says too little; the text decides (a default if it cannot).
_BY_SUBJECT: dict[str, tuple[Kind, str]] = {
    "1": (Kind.SOFT, "undetermined"),
    "2": (Kind.SOFT, "undetermined"),
    "3": (Kind.SOFT, "systemerror"),
    "4": (Kind.SOFT, "networkerror"),
    "5": (Kind.SOFT, "undetermined"),
    "6": (Kind.SENDER, "contentrejected"),
    "7": (Kind.SENDER, "policy"),
}


_TIERS = (
    (Kind.SENDER, wordings.SENDER_NAMED),
    (Kind.SOFT, wordings.SOFT_NAMED),
    (Kind.HARD, wordings.HARD_NAMED),
    (Kind.SENDER, wordings.SENDER_VAGUE),
    (Kind.SOFT, wordings.SOFT_VAGUE),
)


def classify_reply(code: int | None, text: str, status: str | None = None) -> Reply:
    """The kind and reason of one reply: ``code`` the SMTP reply code if known (else read
    from the start of ``text``), ``text`` what the server wrote (a diagnostic may carry
    ``smtp;`` and codes of its own), ``status`` an enhanced code given apart (a DSN's)."""
    text = text[:READ_AT_MOST]
    if code is None:
        found = _REPLY_CODE.match(text)
        code = int(found[1]) if found else None
    chosen = _decisive_status(text, status)
    permanent = _is_permanent(code, chosen)
    by_status = _BY_STATUS.get(chosen.partition(".")[2]) if chosen else None
    if by_status is not None and not (by_status[0] == Kind.HARD and not permanent):
        kind, reason = _refined(by_status, text, told=chosen not in text, permanent=permanent)
        return Reply(kind, reason, chosen, code)
    kind, reason = _by_text(text, chosen)
    if kind == Kind.HARD and not permanent:
        kind, reason = Kind.SOFT, "networkerror" if reason == "hostunknown" else "undetermined"
    return Reply(kind, reason, chosen or None, code)


def status_codes(text: str) -> list[str]:
    """Every enhanced status code in ``text``, in order (``#5.1.1`` of qmail included)."""
    return [".".join(found.groups()) for found in _STATUS.finditer(text)]


def is_generic(status: str) -> bool:
    """``x.0.0``: a class and nothing more, which any more specific code overrides."""
    return status.endswith(".0.0")


def _decisive_status(text: str, given: str | None) -> str:
    """The first specific code of the text, else the given one if specific, else whatever
    generic code there is."""
    seen = status_codes(text)
    specific = [found for found in seen if not is_generic(found)]
    if specific:
        return specific[0]
    if given and not is_generic(given):
        return given
    return given or (seen[0] if seen else "")


def _is_permanent(code: int | None, status: str) -> bool:
    if status:
        return status.startswith("5")
    return code is None or code >= 500


def _by_text(text: str, status: str) -> tuple[Kind, str]:
    subject = status.split(".")[1] if status else ""
    if subject != "7" and wordings.SUSPENDED.search(text):
        return Kind.SOFT, "suspended"
    for kind, rules in _TIERS:
        if subject == "7" and (kind == Kind.HARD or rules is wordings.SOFT_VAGUE):
            continue  # a policy code: neither an address gone nor a server's trouble
        for reason, pattern in rules:
            if pattern.search(text):
                return kind, reason
    return _BY_SUBJECT.get(subject, (Kind.SOFT, "undetermined"))


def _refined(
    by_status: tuple[Kind, str], text: str, *, told: bool, permanent: bool
) -> tuple[Kind, str]:
    """A specific code's verdict, made precise by the text where the code is broad.

    ``told``: the code is only the DSN's Status, the reporting MTA's summary; when the
    remote server's own words name our side outright, they win (a Status 5.1.1 over
    "550 ... DMARC policy is reject")."""
    kind, reason = by_status
    if told and kind != Kind.SENDER and (named := _first(wordings.SENDER_NAMED, text)):
        return Kind.SENDER, named
    if kind == Kind.SENDER and reason == "policy":
        return kind, _sender_reason(text) or reason
    if reason == "suspended" and not permanent and not wordings.SUSPENDED.search(text):
        return kind, "systemerror"  # 4.2.1: Gmail's "receiving mail at a rate" for now
    if kind == Kind.HARD:  # 5.1.10 is a null MX to RFC 7505, a missing user to Exchange
        return kind, _first(wordings.HARD_NAMED, text) or reason
    if reason in ("networkerror", "systemerror") and wordings.EXPIRED.search(text):
        return kind, "expired"  # a queue that gave up on a connection that kept failing
    return kind, reason


def _first(rules: wordings.Wordings, text: str) -> str | None:
    return next((reason for reason, pattern in rules if pattern.search(text)), None)


def _sender_reason(text: str) -> str | None:
    """The precise sender-side cause of a policy code (``5.7.1``), if the text names one."""
    return _first(wordings.SENDER_NAMED, text) or _first(wordings.SENDER_VAGUE, text)
