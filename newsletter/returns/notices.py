"""Mail back that is no delivery report: a mail client's unsubscribe, an abuse complaint
written by hand, an automatic reply.

Each is told by what it is, not by what it lacks: Apple Mail marks its unsubscribe mail
``X-Apple-Unsubscribe: true``; an abuse report quotes our message (its headers, which
``returns.match`` then ties to a delivery of ours) and says spam or abuse outside the
quote; an automatic reply carries RFC 3834 headers or, from older clients, only the
wording of its subject in Dutch, English, German, French or Japanese.
"""

from __future__ import annotations

import re
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32
from email.utils import getaddresses

from newsletter.delivery.replies import Kind
from newsletter.returns.verdict import READ_AT_MOST, Verdict, header_text, part_text

_ABUSE_WORDS = re.compile(
    r"\bspam|\babuse|complaint|unsolicited|unwanted|klacht|ongewenst|beschwerde|"
    r"unerwünscht|plainte|non sollicité|indésirable|迷惑",
    re.I,
)
_AUTO_SUBJECT = re.compile(
    r"out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?(?:reply|response|antwort)|"
    r"^\s*auto:|vacation|away from|afwezig|automatisch antwoord|niet aanwezig|"
    r"abwesen|automatische antwort|nicht im büro|urlaub|réponse automatique|absen(?:t|ce)|"
    r"congés|不在|自動返信|自動応答|ticket|received your (?:message|mail|request)|"
    r"we have received|ontvangstbevestiging|eingangsbestätigung|accusé de réception",
    re.I,
)
_AUTO_BODY = re.compile(
    r"out of (?:the )?office|i am (?:currently )?away|i'm (?:currently )?away|"
    r"(?:ben|is) (?:momenteel |tot en met .{0,20})?afwezig|ik ben .{0,30}niet aanwezig|"
    r"bin .{0,30}(?:nicht im büro|abwesend)|je suis .{0,30}absente?|不在",
    re.I,
)
_QUOTED_OURS = re.compile(r"^[ \t>]*(?:Message-ID|List-Id|List-Unsubscribe):\s*\S", re.I | re.M)
# Where a writer's own words end: a quote, a forwarded message, headers pasted in.
_QUOTE_START = re.compile(
    r"^(?:-{2,}.{0,30}(?:original|forwarded|oorspronkelijk|doorgestuurd|ursprünglich|"
    r"weitergeleitet|d'origine|transféré).{0,30}-{2,}|>|\[ ?offending message|"
    r"(?:Return-Path|Received):\s)",
    re.I | re.M,
)
_HEADER_LINE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*:\s", re.M)
# Our List-Unsubscribe mailto asks for this subject; mail clients without Apple's header
# (Outlook's Unsubscribe button) send just that.
_UNSUBSCRIBE_SUBJECT = re.compile(r"^\s*unsubscribe-[A-Za-z0-9._-]+\s*$")


def apple_unsubscribe(message: Message, message_ids: tuple[str, ...]) -> Verdict | None:
    """Apple Mail's unsubscribe: a mail from the reader to our List-Unsubscribe address."""
    apple = str(message.get("X-Apple-Unsubscribe", "")).strip().lower() == "true"
    if not apple and not _UNSUBSCRIBE_SUBJECT.match(header_text(message, "Subject")):
        return None
    readers = tuple(
        address.lower()
        for _, address in getaddresses([str(v) for v in message.get_all("From", [])])
        if address
    )
    text = "unsubscribe mail of a mail client" + (" (X-Apple-Unsubscribe)" if apple else "")
    return Verdict(Kind.UNSUBSCRIBE, "listunsubscribe", text, readers, message_ids)


def abuse_report(
    message: Message, returned: Message | None, message_ids: tuple[str, ...]
) -> Verdict | None:
    """A complaint written without ARF: our message quoted, spam or abuse said about it."""
    own, quoted = _own_and_quoted_text(message)
    if returned is None and _QUOTED_OURS.search(quoted):
        returned = _quoted_headers(quoted)
    if returned is None or not message_ids:
        return None
    if not _ABUSE_WORDS.search(f"{header_text(message, 'Subject')}\n{own}"):
        return None
    recipients = tuple(
        address.lower()
        for _, address in getaddresses([str(v) for v in returned.get_all("To", [])])
        if address
    )
    return Verdict(
        Kind.COMPLAINT, "abuse", "abuse report quoting our message", recipients, message_ids
    )


def has_auto_reply_headers(message: Message) -> bool:
    """RFC 3834 headers, and the older ones of mail clients. Mail systems mark their
    bounces so too: these say "automatic", not "no bounce"."""
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return (
        auto not in ("", "no")
        or precedence in ("auto_reply", "bulk", "junk")
        or any(
            message.get(name) is not None
            for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")
        )
    )


def has_auto_reply_wording(message: Message) -> bool:
    """An out-of-office or acknowledgement by its subject or opening, in Dutch, English,
    German, French or Japanese (older clients send no header)."""
    if _AUTO_SUBJECT.search(header_text(message, "Subject")):
        return True
    own, _ = _own_and_quoted_text(message)
    return bool(_AUTO_BODY.search(own[:2000]))


def _own_and_quoted_text(message: Message) -> tuple[str, str]:
    """The writer's own words, and what they quote (``>`` lines, a forwarded or
    original message below a separator, attached messages)."""
    own: list[str] = []
    quoted: list[str] = []
    for part in message.walk():
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                quoted.append("".join(f"{k}: {v}\n" for k, v in inner[0].items()))
            continue
        if part.get_content_type() not in ("text/plain", "text/rfc822-headers"):
            continue
        text = part_text(part)[:READ_AT_MOST]
        if part.get_content_type() == "text/rfc822-headers":
            quoted.append(text)
            continue
        cut = _QUOTE_START.search(text)
        own.append(text[: cut.start()] if cut else text)
        quoted.append(text[cut.start() :] if cut else "")
    return "\n".join(own), "\n".join(quoted)


def _quoted_headers(quoted: str) -> Message | None:
    """The headers of a message pasted or quoted (``> ``) into a text, read as headers
    only."""
    lines = [re.sub(r"^> ?", "", line) for line in quoted.splitlines()]
    text = "\n".join(lines)
    start = _HEADER_LINE.search(text)
    if start is None:
        return None
    return HeaderParser(policy=compat32).parsestr(text[start.start() :], headersonly=True)
