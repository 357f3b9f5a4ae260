"""What a late bounce or complaint does: the one place every way in hands what came back
to. A returned message (a file or pipe, the inbound listener, a mailbox) goes to
:func:`process_message`, a relay's webhook event to :func:`process_event`; both end in
one function that stores the report, ties it to a delivery (:mod:`newsletter.returns.match`)
and acts on the reader.

* A report that :mod:`~newsletter.returns.match` cannot tie to a delivery of ours
  changes nothing: it is stored as ignored, tied to nobody, and counts towards no limit.
* Hard bounce: the reader becomes ``bounced`` at once. Complaint: ``complained``, never
  mailed again. Soft bounce: the delivery is marked ``soft_bounce``, as the ledger marks
  a 4xx during the send, and the ledger's one rule decides
  (:func:`~newsletter.delivery.outcomes.soft_bounces_adding_up`): soft bounces, during the
  send or later, in ``bounces.soft_limit`` of the reader's last ``bounces.soft_window``
  editions, none delivered without one since, make them ``bounced``. A hard bounce or a
  complaint may pass the edition's limits (:mod:`newsletter.returns.limits`).
* Every report is stored once, keyed by its fingerprint (SHA-256 of the message with
  LF line endings, so the SMTP and the Maildir copy of one message are one report), and
  every outcome tied to a reader is an event with the reason. The same report fed in
  again is answered from the stored row and changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.db.events import record_event
from newsletter.db.models import BounceReport, Delivery, Subscriber, SubscriberStatus, utcnow
from newsletter.delivery.outcomes import SoftBouncePolicy, soft_bounces_adding_up
from newsletter.returns.limits import check_limits
from newsletter.returns.match import find_delivery, pick_recipient
from newsletter.returns.parse import Kind, Verdict, classify_message, clean_reason, parse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Processed:
    """The answer for one report, as ``bounces process --json`` prints it. ``is_report``
    (not printed): what came back reads as a bounce or complaint, whether or not it was
    tied to a delivery of ours; the mailbox moves those out of the way."""

    result: str
    email: str | None
    reason: str
    subscriber_id: int | None = None
    edition_id: int | None = None
    status: str | None = None
    duplicate: bool = False
    is_report: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "result": self.result,
            "email": self.email,
            "reason": self.reason,
            "subscriber_id": self.subscriber_id,
            "edition": self.edition_id,
            "subscriber_status": self.status,
            "duplicate": self.duplicate,
        }


def fingerprint(raw: bytes) -> str:
    return hashlib.sha256(raw.replace(b"\r\n", b"\n")).hexdigest()


def process_message(
    database: Database,
    settings: Settings,
    raw: bytes,
    *,
    envelope_recipient: str | None = None,
    source: str = "mail",
) -> Processed:
    """Classify one raw message and act on it; :class:`NotAMailError` if it is no mail."""
    message = parse(raw)
    verdict = _first_report(classify_message(message))
    recipient = envelope_recipient or pick_recipient(settings, message)
    return _settle(database, settings, verdict, recipient, fingerprint(raw), source)


@dataclass(frozen=True)
class RelayEvent:
    """A bounce or complaint as a relay's webhook reports it (SES, Postmark, Mailgun).

    Relays send with their own return path, so there is no VERP token: the delivery is
    found by our Message-ID when the relay echoes it, else as the last message sent to
    ``email``. ``event_id`` is the relay's own id of the event (for idempotency).
    """

    kind: Kind
    email: str | None
    reason: str
    event_id: str
    message_id: str | None = None


# Until a relay's own words go through the classifier, its event type says this much.
_EVENT_REASONS = {
    Kind.HARD: "userunknown",
    Kind.SOFT: "undetermined",
    Kind.SENDER: "policy",
    Kind.COMPLAINT: "abuse",
    Kind.UNSUBSCRIBE: "optout",
    Kind.IGNORED: "notabounce",
}


def _first_report(verdicts: tuple[Verdict, ...]) -> Verdict:
    """One verdict per message, as the reports table holds one row per message."""
    return next((v for v in verdicts if v.kind != Kind.IGNORED), verdicts[0])


def process_event(
    database: Database, settings: Settings, event: RelayEvent, *, source: str
) -> Processed:
    verdict = Verdict(
        event.kind,
        _EVENT_REASONS[event.kind],
        clean_reason(event.reason),
        (event.email.lower(),) if event.email else (),
        (event.message_id,) if event.message_id else (),
    )
    print_ = hashlib.sha256(f"{source}\n{event.event_id}".encode()).hexdigest()
    return _settle(database, settings, verdict, None, print_, source, by_address=True)


def _settle(
    database: Database,
    settings: Settings,
    verdict: Verdict,
    recipient: str | None,
    print_: str,
    source: str,
    *,
    by_address: bool = False,
) -> Processed:
    """Where both ways end: apply the verdict in one transaction, with the owner alert when
    it passed a limit (``runtime.owner_mail`` mails it)."""
    with database.session() as session:
        processed = _apply(session, settings, verdict, recipient, print_, source, by_address)
    return replace(processed, is_report=verdict.kind != Kind.IGNORED)


def _apply(
    session: Session,
    settings: Settings,
    verdict: Verdict,
    recipient: str | None,
    print_: str,
    source: str,
    by_address: bool,
) -> Processed:
    known = session.scalar(select(BounceReport).where(BounceReport.fingerprint == print_))
    if known is not None:
        return _from_row(session, known, duplicate=True)
    delivery, why_not = find_delivery(session, settings, verdict, recipient, by_address)
    result = verdict.kind
    reason = verdict.diagnostic or verdict.reason
    if result != Kind.IGNORED and delivery is None:
        reason = f"{why_not}; {result}: {reason}"
        result = Kind.IGNORED
    report = BounceReport(
        fingerprint=print_,
        source=source,
        result=result,
        reason=reason,
        subscriber_id=delivery.subscriber_id if delivery else None,
        edition_id=delivery.edition_id if delivery else None,
        delivery_id=delivery.id if delivery else None,
    )
    session.add(report)
    try:
        session.flush()
    except IntegrityError:  # the same report, processed at this moment by another way in
        session.rollback()
        known = session.scalar(select(BounceReport).where(BounceReport.fingerprint == print_))
        assert known is not None
        return _from_row(session, known, duplicate=True)
    if delivery is not None and result != Kind.IGNORED:
        _act(session, settings, report, delivery)
        if result != Kind.SOFT:
            check_limits(session, settings.bounces, delivery.edition_id)
    log.info("returned message (%s): %s, %s", source, result, reason)
    return _from_row(session, report, duplicate=False)


def _act(session: Session, settings: Settings, report: BounceReport, delivery: Delivery) -> None:
    subscriber = session.get(Subscriber, delivery.subscriber_id)
    assert subscriber is not None
    before = subscriber.status
    if report.result == Kind.HARD and before == SubscriberStatus.ACTIVE:
        subscriber.status = SubscriberStatus.BOUNCED
    elif report.result == Kind.COMPLAINT and before != SubscriberStatus.COMPLAINED:
        subscriber.status = SubscriberStatus.COMPLAINED
        subscriber.unsubscribed_at = subscriber.unsubscribed_at or utcnow()
    elif report.result == Kind.SOFT:
        delivery.soft_bounce = True  # the ledger's mark, as a 4xx during the send sets it
        session.flush()
        if before == SubscriberStatus.ACTIVE:
            policy = SoftBouncePolicy(settings.bounces.soft_limit, settings.bounces.soft_window)
            counted = soft_bounces_adding_up(session.connection(), [subscriber.id], policy)
            if subscriber.id in counted:
                subscriber.status = SubscriberStatus.BOUNCED
    record_event(
        session,
        "complaint" if report.result == Kind.COMPLAINT else "bounce",
        report.source,
        subscriber.id,
        delivery.edition_id,
        type=report.result,
        reason=report.reason,
        report=report.id,
        status_before=before,
        status_after=subscriber.status,
    )


def _from_row(session: Session, report: BounceReport, *, duplicate: bool) -> Processed:
    subscriber = session.get(Subscriber, report.subscriber_id) if report.subscriber_id else None
    return Processed(
        result=report.result,
        email=subscriber.email if subscriber else None,
        reason=report.reason,
        subscriber_id=report.subscriber_id,
        edition_id=report.edition_id,
        status=subscriber.status if subscriber else None,
        duplicate=duplicate,
    )
