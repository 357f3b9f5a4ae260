"""What a late bounce or complaint does: the one place every way in hands what came back
to. A returned message (a file or pipe, the inbound listener, a mailbox) goes to
:func:`process_message`, a relay's webhook event to :func:`process_event`; both end in
one function that stores a row for each verdict (one per recipient the report names),
ties it to a delivery (:mod:`newsletter.returns.match`) and acts on the reader.

* A verdict that :mod:`~newsletter.returns.match` cannot tie to a delivery of ours
  changes nothing: it is stored as ignored, tied to nobody, and counts towards no limit.
* ``hard`` (the address is gone): the reader becomes ``bounced`` at once, unless their
  domain refused too much of the edition at once: then the verdict is held as
  ``suspect`` and the owner asked (:mod:`newsletter.returns.suspect`). ``complaint``:
  ``complained``, never mailed again. ``unsubscribe``: unsubscribed as the link does it.
  ``soft``: the delivery is marked ``soft_bounce``, as the ledger marks a 4xx during the
  send, and the ledger's one rule decides
  (:func:`~newsletter.delivery.outcomes.soft_bounces_adding_up`). ``sender`` (our side:
  blocked, authentication, policy): the reader stays as they are, nothing is counted
  against them, and the owner hears what to fix (:mod:`newsletter.returns.senders`). A
  hard bounce or a complaint may pass the edition's limits (:mod:`newsletter.returns.limits`).
* Every report is stored once, keyed by its fingerprint (SHA-256 of the message with
  LF line endings, so the SMTP and the Maildir copy of one message are one report) and
  the verdict's place in it, and every outcome tied to a reader is an event with the
  reason. The same report fed in again is answered from the stored rows and changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.db.events import record_event
from newsletter.db.models import (
    BounceReport,
    Delivery,
    ReportResult,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from newsletter.db.subscriptions import unsubscribe_by_link
from newsletter.delivery.outcomes import SoftBouncePolicy, soft_bounces_adding_up
from newsletter.returns import suspect
from newsletter.returns.limits import check_limits
from newsletter.returns.match import find_delivery, pick_recipient
from newsletter.returns.parse import Kind, Verdict, classify_message, clean_reason, parse
from newsletter.returns.senders import alert_sender_rejections

log = logging.getLogger(__name__)


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    """A verdict as the commands print it: operator output, so the failed addresses are
    in it (they are never stored)."""
    return {
        "kind": verdict.kind.value,
        "reason": verdict.reason,
        "status": verdict.status,
        "reply_code": verdict.reply_code,
        "recipients": list(verdict.recipients),
        "diagnostic": verdict.diagnostic,
    }


@dataclass(frozen=True)
class Settled:
    """One verdict of a report and what it did. ``result`` is what was stored: the
    verdict's kind, ``ignored`` when it was tied to no delivery of ours (``diagnostic``
    then says why), ``suspect`` when a hard verdict was held (:mod:`newsletter.returns.suspect`).
    """

    verdict: Verdict
    result: str
    diagnostic: str
    email: str | None = None
    subscriber_id: int | None = None
    edition_id: int | None = None
    status: str | None = None
    duplicate: bool = False

    def to_json(self) -> dict[str, Any]:
        """What ``bounces process --json`` prints for one verdict, with what it did."""
        matched = self.subscriber_id is not None
        return {
            **verdict_json(self.verdict),
            "diagnostic": self.diagnostic,
            "result": self.result,
            "delivery": (
                {
                    "edition": self.edition_id,
                    "subscriber_id": self.subscriber_id,
                    "email": self.email,
                }
                if matched
                else None
            ),
            "subscriber_status": self.status,
        }


@dataclass(frozen=True)
class Processed:
    """The answer for one report: a verdict for each recipient it names, in order.

    ``is_report`` (not printed): what came back reads as a bounce or complaint, whether or
    not it was tied to a delivery of ours; the mailbox moves those out of the way. The
    report's own fields are its lead verdict's: the first that is not ignored."""

    verdicts: tuple[Settled, ...]
    is_report: bool = False

    @property
    def lead(self) -> Settled:
        return next((v for v in self.verdicts if v.result != Kind.IGNORED), self.verdicts[0])

    @property
    def result(self) -> str:
        return self.lead.result

    @property
    def reason(self) -> str:
        return self.lead.verdict.reason

    @property
    def email(self) -> str | None:
        return self.lead.email

    @property
    def duplicate(self) -> bool:
        return self.lead.duplicate

    def to_json(self) -> dict[str, Any]:
        lead = self.lead
        return {
            "result": lead.result,
            "email": lead.email,
            "reason": lead.verdict.reason,
            "diagnostic": lead.diagnostic,
            "subscriber_id": lead.subscriber_id,
            "edition": lead.edition_id,
            "subscriber_status": lead.status,
            "duplicate": lead.duplicate,
            "verdicts": [verdict.to_json() for verdict in self.verdicts],
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
    verdicts = classify_message(message)
    recipient = envelope_recipient or pick_recipient(settings, message)
    return settle(database, settings, verdicts, recipient, fingerprint(raw), source)


@dataclass(frozen=True)
class RelayEvent:
    """A bounce or complaint as a relay's webhook reports it (SES, Postmark, Mailgun).

    Relays send with their own return path, so there is no VERP token: the delivery is
    found by our Message-ID when the relay echoes it, else as the last message sent to
    ``email``. ``event_id`` is the relay's own id of the event (for idempotency).
    """

    kind: Kind
    email: str | None
    reason: str  # the category, from delivery.replies as for returned mail
    event_id: str
    message_id: str | None = None
    diagnostic: str = ""  # the server's words as the relay passed them on
    status: str | None = None
    reply_code: int | None = None


def process_event(
    database: Database, settings: Settings, event: RelayEvent, *, source: str
) -> Processed:
    verdict = Verdict(
        event.kind,
        event.reason,
        clean_reason(event.diagnostic),
        (event.email.lower(),) if event.email else (),
        (event.message_id,) if event.message_id else (),
        event.status,
        event.reply_code,
    )
    print_ = hashlib.sha256(f"{source}\n{event.event_id}".encode()).hexdigest()
    return settle(database, settings, (verdict,), None, print_, source, by_address=True)


@dataclass(frozen=True)
class _Arrival:
    """What every verdict of one report shares: where it came from and how it is tied."""

    fingerprint: str
    source: str
    recipient: str | None
    by_address: bool
    named: frozenset[str]  # every recipient any of its verdicts names


def settle(
    database: Database,
    settings: Settings,
    verdicts: tuple[Verdict, ...],
    recipient: str | None,
    print_: str,
    source: str,
    *,
    by_address: bool = False,
) -> Processed:
    """Where both ways end: apply every verdict in one transaction, with the owner alerts
    they call for (``runtime.owner_mail`` mails them). A report seen before (by its
    fingerprint) is answered from its stored rows and changes nothing."""
    named = frozenset(address for verdict in verdicts for address in verdict.recipients)
    arrival = _Arrival(print_, source, recipient, by_address, named)
    is_report = any(verdict.kind != Kind.IGNORED for verdict in verdicts)
    with database.session() as session:
        known = _stored(session, print_)
        if known:
            return Processed(_replayed(session, verdicts, known), is_report)
        try:
            settled = tuple(
                _apply(session, settings, verdict, part, arrival)
                for part, verdict in enumerate(verdicts)
            )
        except IntegrityError:  # the same report, processed at this moment by another way in
            session.rollback()
            return Processed(_replayed(session, verdicts, _stored(session, print_)), is_report)
    return Processed(settled, is_report)


def _stored(session: Session, print_: str) -> list[BounceReport]:
    query = select(BounceReport).where(BounceReport.fingerprint == print_)
    return list(session.scalars(query.order_by(BounceReport.part)))


def _apply(
    session: Session, settings: Settings, verdict: Verdict, part: int, arrival: _Arrival
) -> Settled:
    """Store one verdict, tied to the delivery it is about or to nobody, and act on it."""
    delivery, why_not = find_delivery(
        session, settings, verdict, arrival.recipient, arrival.by_address
    )
    subscriber = session.get(Subscriber, delivery.subscriber_id) if delivery else None
    if subscriber is not None and not _about(verdict, subscriber.email, arrival.named):
        delivery, subscriber = None, None
        why_not = "the return path is another recipient's of this report"
    result: str = verdict.kind
    diagnostic = verdict.diagnostic
    if result != Kind.IGNORED and delivery is None:
        diagnostic = f"{why_not}; {result}: {diagnostic or verdict.reason}"
        result = Kind.IGNORED
    domain = _receiving_domain(subscriber.email if subscriber else None, verdict.recipients)
    if delivery is not None and result == Kind.HARD:
        result = suspect.hard_or_suspect(session, settings.bounces, delivery, domain)
    report = BounceReport(
        fingerprint=arrival.fingerprint,
        part=part,
        source=arrival.source,
        result=result,
        reason=verdict.reason,
        diagnostic=diagnostic,
        status=verdict.status,
        reply_code=verdict.reply_code,
        domain=domain,
        subscriber_id=delivery.subscriber_id if delivery else None,
        edition_id=delivery.edition_id if delivery else None,
        delivery_id=delivery.id if delivery else None,
    )
    session.add(report)
    session.flush()
    if delivery is not None and subscriber is not None and result != Kind.IGNORED:
        _act(session, settings, report, delivery, subscriber)
        _tell_owner(session, settings, report)
    log.info("returned message (%s): %s, %s: %s", arrival.source, result, report.reason, diagnostic)
    return _settled(session, verdict, report, duplicate=False)


def _about(verdict: Verdict, email: str | None, named: frozenset[str]) -> bool:
    """Whether a verdict tied to ``email``'s delivery is that reader's. A return path names
    one delivery, so in a report naming several recipients (an address that expanded to
    several) only the verdict naming the reader is theirs; one naming nobody, or a
    forwarded address when the report names the reader nowhere, is theirs too."""
    return not verdict.recipients or email in verdict.recipients or email not in named


def _receiving_domain(email: str | None, recipients: tuple[str, ...]) -> str | None:
    """The domain of the reader's address, else of the first address the report names
    (whoever wrote it: cut to the longest a domain name may be)."""
    address = email or (recipients[0] if recipients else "")
    domain = address.rpartition("@")[2].strip().lower()[:255]
    return domain or None


def _act(
    session: Session,
    settings: Settings,
    report: BounceReport,
    delivery: Delivery,
    subscriber: Subscriber,
) -> None:
    """What the verdict does to the reader. ``sender`` (our side) and ``suspect`` (held)
    leave them as they are, and a sender rejection is not counted as a soft bounce."""
    before = subscriber.status
    if report.result == Kind.UNSUBSCRIBE:
        # Exactly as the link does it, the report's way in as the source.
        unsubscribe_by_link(session, subscriber.id, report.source)
        return
    if report.result == Kind.HARD and before == SubscriberStatus.ACTIVE:
        subscriber.status = SubscriberStatus.BOUNCED
    elif report.result == Kind.COMPLAINT and before != SubscriberStatus.COMPLAINED:
        subscriber.status = SubscriberStatus.COMPLAINED
        subscriber.unsubscribed_at = subscriber.unsubscribed_at or utcnow()
    elif report.result == Kind.SOFT:
        delivery.soft_bounce = True  # the ledger's mark, as a 4xx during the send sets it
        session.flush()
        if before == SubscriberStatus.ACTIVE:
            policy = SoftBouncePolicy.of(settings.bounces)
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
        diagnostic=report.diagnostic,
        report=report.id,
        status_before=before,
        status_after=subscriber.status,
    )


def _tell_owner(session: Session, settings: Settings, report: BounceReport) -> None:
    """The owner alerts a verdict may call for: an edition past its limits, a domain's
    hard bounces held as suspect, rejections on our side."""
    assert report.edition_id is not None
    if report.result in (Kind.HARD, Kind.COMPLAINT):
        check_limits(session, settings.bounces, report.edition_id)
    elif report.result == ReportResult.SUSPECT:
        suspect.alert(session, report.edition_id, report.domain)
    elif report.result == Kind.SENDER:
        alert_sender_rejections(session, report.edition_id)


def _replayed(
    session: Session, verdicts: tuple[Verdict, ...], rows: list[BounceReport]
) -> tuple[Settled, ...]:
    """The stored answer to a report seen before, each row with the verdict it stored."""
    by_part = dict(enumerate(verdicts))
    return tuple(
        _settled(session, by_part.get(row.part, _verdict_of(row)), row, duplicate=True)
        for row in rows
    )


def _verdict_of(row: BounceReport) -> Verdict:
    kind = Kind(row.result) if row.result in set(Kind) else Kind.HARD
    return Verdict(kind, row.reason, row.diagnostic, (), (), row.status, row.reply_code)


def _settled(
    session: Session, verdict: Verdict, report: BounceReport, *, duplicate: bool
) -> Settled:
    subscriber = session.get(Subscriber, report.subscriber_id) if report.subscriber_id else None
    return Settled(
        verdict=verdict,
        result=report.result,
        diagnostic=report.diagnostic,
        email=subscriber.email if subscriber else None,
        subscriber_id=report.subscriber_id,
        edition_id=report.edition_id,
        status=subscriber.status if subscriber else None,
        duplicate=duplicate,
    )
