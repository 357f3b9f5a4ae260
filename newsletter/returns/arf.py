"""RFC 5965 feedback reports (ARF): a reader's complaint, opt-out, or a report for us alone.

The ``Feedback-Type`` decides (RFC 5965 and its IANA registry): ``abuse``, ``fraud``,
``virus`` and ``other`` are a reader calling our mail unwanted; ``opt-out`` is a reader
leaving, as if by the link; ``auth-failure`` (RFC 6591) and ``not-spam`` are about our
authentication and a filter's mistake, and change no reader.
"""

from __future__ import annotations

from email.message import Message
from email.utils import getaddresses

from newsletter.delivery.replies import Kind
from newsletter.returns.verdict import Verdict, clean_reason, plain_address

# RFC 5965 feedback types (and the opt-out spelling some loops use): ARF reports and a
# relay's complaint notification (SES passes the loop's type on) read them by this one table.
FEEDBACK_TYPES: dict[str, tuple[Kind, str]] = {
    "abuse": (Kind.COMPLAINT, "abuse"),
    "fraud": (Kind.COMPLAINT, "fraud"),
    "virus": (Kind.COMPLAINT, "virusreport"),
    "other": (Kind.COMPLAINT, "other"),
    "opt-out": (Kind.UNSUBSCRIBE, "optout"),
    "optout": (Kind.UNSUBSCRIBE, "optout"),
    "auth-failure": (Kind.IGNORED, "authreport"),
    "not-spam": (Kind.IGNORED, "notspam"),
}


def feedback_verdict(
    part: Message, returned: Message | None, message_ids: tuple[str, ...]
) -> Verdict:
    """The verdict of a ``message/feedback-report`` part; ``returned`` holds the headers
    of the reported message (its To names the reader when Original-Rcpt-To is absent)."""
    fields = part.get_payload()
    report = fields[0] if isinstance(fields, list) and fields else None
    if not isinstance(report, Message):
        return Verdict(
            Kind.IGNORED, "notabounce", "feedback report without fields", (), message_ids
        )
    feedback_type = str(report.get("Feedback-Type", "")).strip().lower()
    kind, reason = FEEDBACK_TYPES.get(feedback_type, (Kind.IGNORED, "notabounce"))
    recipients = [
        address
        for value in report.get_all("Original-Rcpt-To", [])
        if (address := plain_address(str(value)))
    ]
    if not recipients and returned is not None:
        recipients = [
            address.lower()
            for _, address in getaddresses([str(v) for v in returned.get_all("To", [])])
            if address
        ]
    agent = clean_reason(str(report.get("User-Agent", "")))
    what = "complaint" if kind == Kind.COMPLAINT else "feedback report"
    text = f"{what} ({feedback_type or '?'})" + (f" reported by {agent}" if agent else "")
    return Verdict(kind, reason, text, tuple(dict.fromkeys(recipients)), message_ids)
