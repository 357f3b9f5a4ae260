"""What a relay's webhook body says, as :class:`RelayEvent` objects: pure, no I/O.

Kept apart from ``web.webhooks``, which verifies each request its relay's way, so the
reading can be tested on the bodies alone. A relay's own bounce type (SES's ``Permanent``,
Postmark's ``HardBounce``, Mailgun's ``permanent``) is its guess; the server's words it
passes on go through :func:`newsletter.delivery.replies.classify_reply`, the same
classifier as returned mail, and the relay's type only fills in when those words name no
cause. A relay's temporary failure is never hard. A relay's "delivered", "delayed",
auto-reply and not-spam notices change no reader and make no event.

A field of the wrong type (a string where an object belongs, a list for a reason) is a
400 (:class:`Refused`) right where :class:`Payload` reads it, even when validly signed.
"""

from __future__ import annotations

from typing import Any

from newsletter.delivery.replies import Kind, Reply, classify_reply
from newsletter.errors import InputError
from newsletter.returns.apply import RelayEvent
from newsletter.returns.arf import FEEDBACK_TYPES

# A relay's own category, used when the server's words name no cause.
_SES_SUBTYPES: dict[str, tuple[Kind, str]] = {
    "NoEmail": (Kind.HARD, "userunknown"),
    "Suppressed": (Kind.HARD, "userunknown"),
    "OnAccountSuppressionList": (Kind.HARD, "userunknown"),
    "MailboxFull": (Kind.SOFT, "mailboxfull"),
    "MessageTooLarge": (Kind.SOFT, "toobig"),
    "ContentRejected": (Kind.SENDER, "contentrejected"),
    "AttachmentRejected": (Kind.SENDER, "contentrejected"),
}
_POSTMARK_TYPES: dict[str, tuple[Kind, str]] = {
    "BadEmailAddress": (Kind.HARD, "userunknown"),
    "SoftBounce": (Kind.SOFT, "undetermined"),
    "Transient": (Kind.SOFT, "undetermined"),
    "DnsError": (Kind.SOFT, "networkerror"),
    "Blocked": (Kind.SENDER, "blocked"),
    "DMARCPolicy": (Kind.SENDER, "authfailure"),
    "SpamNotification": (Kind.SENDER, "spam"),
    "ContentRelated": (Kind.SENDER, "contentrejected"),
    "VirusNotification": (Kind.SENDER, "virus"),
    "ChallengeVerification": (Kind.SENDER, "policy"),
}
_POSTMARK_TEMPORARY = frozenset({"SoftBounce", "Transient", "DnsError"})
_MAILGUN_REASONS: dict[str, tuple[Kind, str]] = {
    "suppress-bounce": (Kind.HARD, "userunknown"),
    "espblock": (Kind.SENDER, "blocked"),
}
# SendGrid's "dropped": it would not send, for a reason of its own lists.
_SENDGRID_DROPPED: dict[str, tuple[Kind, str]] = {
    "Bounced Address": (Kind.HARD, "userunknown"),
    "Invalid": (Kind.HARD, "userunknown"),
    "Unsubscribed Address": (Kind.UNSUBSCRIBE, "listunsubscribe"),
    "Spam Reporting Address": (Kind.COMPLAINT, "abuse"),
}
_SENDGRID_BOUNCE_TYPES: dict[str, tuple[Kind, str]] = {
    "bounce": (Kind.HARD, "userunknown"),
    "blocked": (Kind.SENDER, "blocked"),
}


class Refused(InputError):
    """A request refused with an HTTP status and a one-line reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class Payload:
    """One JSON object of a relay's request, read field by field with the type the relay
    documents for it. A field of another type is refused (400) right where it is read, so
    nothing deeper down meets a list where it expects a string."""

    def __init__(self, value: object, where: str) -> None:
        if not isinstance(value, dict):
            raise Refused(400, f"{where} is not a JSON object")
        self._fields: dict[str, object] = value
        self._where = where

    def has(self, key: str) -> bool:
        return self._fields.get(key) is not None

    def _field(self, key: str, kinds: tuple[type, ...], what: str) -> Any:
        value = self._fields.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
            raise Refused(400, f"{self._where}.{key} is not {what}")
        return value

    def text(self, key: str) -> str:
        """A string; "" when absent or null."""
        return self._field(key, (str,), "a string") or ""

    def code(self, key: str) -> str:
        """A number or a string (an SMTP code, a relay's record id), as text."""
        value = self._field(key, (str, int), "a number or a string")
        return "" if value is None else str(value)

    def flag(self, key: str) -> bool:
        """A boolean; False when absent or null."""
        value = self._fields.get(key)
        if value is not None and not isinstance(value, bool):
            raise Refused(400, f"{self._where}.{key} is not true or false")
        return bool(value)

    def object(self, key: str) -> Payload:
        """An object; an empty one when absent or null."""
        return Payload(self._field(key, (dict,), "a JSON object") or {}, f"{self._where}.{key}")

    def objects(self, key: str) -> list[Payload]:
        """A list of objects; empty when absent or null."""
        items = self._field(key, (list,), "a list") or []
        return [Payload(item, f"{self._where}.{key}[{n}]") for n, item in enumerate(items)]


def judged(
    text: str,
    *,
    code: int | None = None,
    status: str | None = None,
    relay_says: tuple[Kind, str] | None = None,
    temporary: bool = False,
) -> Reply:
    """The cause of a relay's failure: the server's words first, the relay's category
    where they name none, and never hard for what the relay calls temporary."""
    reply = classify_reply(code, text, status or None)
    if reply.reason == "undetermined" and relay_says is not None:
        reply = Reply(*relay_says, reply.status, reply.reply_code)
    if temporary and reply.kind == Kind.HARD:
        reply = Reply(Kind.SOFT, "undetermined", reply.status, reply.reply_code)
    return reply


def event(
    reply: Reply, email: str, diagnostic: str, event_id: str, message_id: str | None
) -> RelayEvent:
    return RelayEvent(
        reply.kind,
        email or None,
        reply.reason,
        event_id,
        message_id,
        diagnostic,
        reply.status,
        reply.reply_code,
    )


def ses_events(notification: Payload, sns_id: str) -> list[RelayEvent]:
    """An SES notification (through SNS): a bounce or complaint per recipient."""
    kind_name = notification.text("notificationType") or notification.text("eventType")
    message_id = notification.object("mail").object("commonHeaders").text("messageId") or None
    if kind_name == "Bounce":
        bounce = notification.object("bounce")
        bounce_type, sub_type = bounce.text("bounceType"), bounce.text("bounceSubType")
        events = []
        for number, item in enumerate(bounce.objects("bouncedRecipients")):
            text = item.text("diagnosticCode")
            reply = judged(
                text,
                status=item.text("status"),
                relay_says=_SES_SUBTYPES.get(sub_type),
                temporary=bounce_type != "Permanent",
            )
            diagnostic = f"SES {bounce_type}/{sub_type}: {item.text('status')} {text}".strip()
            events.append(
                event(
                    reply, item.text("emailAddress"), diagnostic, f"{sns_id}:{number}", message_id
                )
            )
        return events
    if kind_name == "Complaint":
        complaint = notification.object("complaint")
        feedback = complaint.text("complaintFeedbackType") or "abuse"
        kind, reason = FEEDBACK_TYPES.get(feedback, (Kind.COMPLAINT, "abuse"))
        if kind == Kind.IGNORED:  # not-spam, auth-failure: about no reader's wish
            return []
        reply = Reply(kind, reason)
        return [
            event(
                reply,
                item.text("emailAddress"),
                f"SES complaint ({feedback})",
                f"{sns_id}:{n}",
                message_id,
            )
            for n, item in enumerate(complaint.objects("complainedRecipients"))
        ]
    return []


def mailgun_events(data: Payload, token: str) -> list[RelayEvent]:
    """A Mailgun event: a permanent failure, a complaint or an unsubscribe; its temporary
    failures are retried by Mailgun and change nobody yet."""
    name, severity = data.text("event"), data.text("severity")
    message_id = data.object("message").object("headers").text("message-id") or None
    if message_id and not message_id.startswith("<"):
        message_id = f"<{message_id}>"
    status = data.object("delivery-status")
    # All three are read, so each has its type checked, even when the first one answers.
    details = (status.text("message"), status.text("description"), data.text("reason"))
    detail = next((text for text in details if text), "")
    event_id = data.text("id") or token
    recipient = data.text("recipient")
    if name == "failed" and severity == "permanent":
        code = status.code("code")
        reply = judged(
            detail,
            code=int(code) if code.isdecimal() else None,
            relay_says=_MAILGUN_REASONS.get(data.text("reason")),
        )
        if data.text("reason") == "old":  # Mailgun gave up retrying: the last reply is no cause
            reply = Reply(Kind.SOFT, "expired", reply.status, reply.reply_code)
        diagnostic = f"Mailgun permanent failure: {code} {detail}".strip()
        return [event(reply, recipient, diagnostic, event_id, message_id)]
    if name == "complained":
        reply = Reply(Kind.COMPLAINT, "abuse")
        return [event(reply, recipient, "Mailgun complaint", event_id, message_id)]
    if name == "unsubscribed":
        reply = Reply(Kind.UNSUBSCRIBE, "listunsubscribe")
        return [event(reply, recipient, "Mailgun unsubscribe link", event_id, message_id)]
    return []


def postmark_events(record: Payload) -> list[RelayEvent]:
    """A Postmark webhook record: a bounce, a spam complaint, or a subscription change
    that suppresses the reader."""
    record_type, bounce_type = record.text("RecordType"), record.text("Type")
    # Postmark's MessageID is its own id, not our Message-ID header: the email ties it.
    event_id = f"{record_type}:{record.code('ID') or record.text('MessageID')}"
    if record_type == "SpamComplaint":
        reply = Reply(Kind.COMPLAINT, "abuse")
        return [event(reply, record.text("Email"), "Postmark spam complaint", event_id, None)]
    if record_type == "SubscriptionChange" and record.flag("SuppressSending"):
        reason = record.text("SuppressionReason")
        reply = Reply(Kind.UNSUBSCRIBE, "listunsubscribe")
        diagnostic = f"Postmark subscription change ({reason or 'suppressed'})"
        return [event(reply, record.text("Recipient"), diagnostic, event_id, None)]
    if record_type != "Bounce" or bounce_type in ("AutoResponder", "OpenRelayTest", ""):
        return []
    text = record.text("Details") or record.text("Description")
    reply = judged(
        text,
        relay_says=_POSTMARK_TYPES.get(bounce_type),
        temporary=bounce_type in _POSTMARK_TEMPORARY,
    )
    diagnostic = f"Postmark {bounce_type}: {text}".strip()
    return [event(reply, record.text("Email"), diagnostic, event_id, None)]


def sendgrid_events(items: list[Payload]) -> list[RelayEvent]:
    """A SendGrid Event Webhook batch: a bounce (``bounce`` or ``blocked``: the server's
    words decide), a drop by SendGrid's own lists, a spam report or an unsubscribe per
    reader. ``deferred`` (SendGrid keeps trying) and ``delivered`` change nobody."""
    found = []
    for item in items:
        name, email = item.text("event"), item.text("email")
        event_id = item.text("sg_event_id") or f"{item.text('sg_message_id')}:{name}:{email}"
        smtp_id = item.text("smtp-id")
        message_id = smtp_id if smtp_id.startswith("<") else None
        reply: Reply | None = None
        if name == "bounce":
            bounce_type = item.text("type")
            reply = judged(
                item.text("reason"),
                status=item.code("status"),
                relay_says=_SENDGRID_BOUNCE_TYPES.get(bounce_type),
            )
            diagnostic = f"SendGrid {bounce_type}: {item.text('reason')}".strip()
        elif name == "dropped" and item.text("reason") in _SENDGRID_DROPPED:
            reply = Reply(*_SENDGRID_DROPPED[item.text("reason")])
            diagnostic = f"SendGrid dropped ({item.text('reason')})"
        elif name == "spamreport":
            reply, diagnostic = Reply(Kind.COMPLAINT, "abuse"), "SendGrid spam report"
        elif name in ("unsubscribe", "group_unsubscribe"):
            reply = Reply(Kind.UNSUBSCRIBE, "listunsubscribe")
            diagnostic = f"SendGrid {name}"
        if reply is not None:
            found.append(event(reply, email, diagnostic, event_id, message_id))
    return found
