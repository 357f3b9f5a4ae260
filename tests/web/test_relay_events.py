"""What a relay's webhook body says (``web.relay_events``), read without a server: each
event to the verdict of its cause, the relay's own type only where the words name none,
and a field of the wrong type refused where it is read. (Every corpus body: test_wild_corpus.)"""

from __future__ import annotations

from typing import Any

import pytest

from newsletter.delivery.replies import Kind
from newsletter.web.relay_events import (
    Payload,
    Refused,
    judged,
    postmark_events,
    sendgrid_events,
    ses_events,
)

READER = "lezer1@voorbeeld.nl"
OURS = "<1.2.abcdefghijklm@gerritvanderheide.com>"


def _sendgrid(**fields: Any) -> list[tuple[str, str, str | None]]:
    item = {"email": READER, "sg_event_id": "sg-1", **fields}
    return [(e.kind, e.reason, e.message_id) for e in sendgrid_events([Payload(item, "e")])]


@pytest.mark.parametrize(
    ("fields", "verdict"),
    [
        ({"event": "bounce", "type": "bounce", "reason": "550 5.1.1 User unknown"}, ("hard", "userunknown")),
        ({"event": "bounce", "type": "bounce", "reason": "552 5.2.2 Mailbox full"}, ("soft", "mailboxfull")),
        ({"event": "bounce", "type": "blocked", "reason": "554 rejected"}, ("sender", "blocked")),
        ({"event": "bounce", "type": "blocked", "reason": "550 5.7.26 DMARC"}, ("sender", "authfailure")),
        ({"event": "dropped", "reason": "Bounced Address"}, ("hard", "userunknown")),
        ({"event": "dropped", "reason": "Unsubscribed Address"}, ("unsubscribe", "listunsubscribe")),
        ({"event": "dropped", "reason": "Spam Reporting Address"}, ("complaint", "abuse")),
        ({"event": "spamreport"}, ("complaint", "abuse")),
        ({"event": "unsubscribe"}, ("unsubscribe", "listunsubscribe")),
        ({"event": "group_unsubscribe", "asm_group_id": 1}, ("unsubscribe", "listunsubscribe")),
    ],
)  # fmt: skip
def test_sendgrid_events_by_cause(fields: dict[str, Any], verdict: tuple[str, str]) -> None:
    [(kind, reason, _)] = _sendgrid(**fields)
    assert (kind, reason) == verdict


@pytest.mark.parametrize("name", ["delivered", "deferred", "processed", "open", "click"])
def test_sendgrid_events_that_change_nobody(name: str) -> None:
    assert _sendgrid(event=name, response="250 OK") == []
    assert _sendgrid(event="dropped", reason="Exceeds Size Limit") == []


def test_sendgrid_echoes_our_message_id_only_when_it_is_one() -> None:
    assert _sendgrid(event="spamreport", **{"smtp-id": OURS})[0][2] == OURS
    assert _sendgrid(event="spamreport", **{"smtp-id": "14c5d75ce93.dfd"})[0][2] is None


def test_a_sendgrid_field_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(Refused) as refused:
        _sendgrid(event="bounce", reason=["550"])
    assert refused.value.status == 400
    with pytest.raises(Refused):
        sendgrid_events([Payload("not an object", "the body[0]")])


def test_postmark_subscription_change_unsubscribes_only_when_it_suppresses() -> None:
    change = {"RecordType": "SubscriptionChange", "ID": 1, "Recipient": READER}
    suppressed = postmark_events(Payload({**change, "SuppressSending": True}, "b"))
    assert [(e.kind, e.reason, e.email) for e in suppressed] == [
        (Kind.UNSUBSCRIBE, "listunsubscribe", READER)
    ]
    assert postmark_events(Payload({**change, "SuppressSending": False}, "b")) == []


def test_the_words_decide_and_a_temporary_failure_is_never_hard() -> None:
    assert judged("550 5.2.2 full", relay_says=(Kind.HARD, "userunknown")).kind == Kind.SOFT
    assert judged("550 rejected", relay_says=(Kind.HARD, "userunknown")).kind == Kind.HARD
    assert judged("550 5.1.1 User unknown", temporary=True).kind == Kind.SOFT


@pytest.mark.parametrize(
    ("feedback", "verdict"),
    [
        ("abuse", [("complaint", "abuse")]),
        ("fraud", [("complaint", "fraud")]),
        (None, [("complaint", "abuse")]),  # SES leaves the type out when the loop gave none
        ("not-spam", []),
        ("auth-failure", []),  # about our DNS, as an ARF auth-failure report is
    ],
)
def test_an_ses_complaint_reads_its_feedback_type_as_an_arf_report_does(
    feedback: str | None, verdict: list[tuple[str, str]]
) -> None:
    complaint: dict[str, Any] = {"complainedRecipients": [{"emailAddress": READER}]}
    if feedback is not None:
        complaint["complaintFeedbackType"] = feedback
    notification = {"notificationType": "Complaint", "complaint": complaint, "mail": {}}
    events = ses_events(Payload(notification, "Message"), "sns-1")
    assert [(e.kind, e.reason) for e in events] == verdict
