"""What a late bounce or complaint does: the one place every way in (a file or pipe, the
inbound listener, a mailbox) hands a returned message to.

* The delivery is found by the VERP token of the envelope recipient; a token that does
  not verify stops there and changes nothing. Without a token, by one of our Message-IDs
  in the returned headers whose MAC verifies (``<edition.subscriber.MAC@domain>``, see
  :class:`~newsletter.delivery.message_ids.MessageIds`; the ledger row must have been sent
  with it) *and* a recipient the report names (a DSN's Final-Recipient or
  Original-Recipient, an ARF report's Original-Rcpt-To, the addresses found in a
  non-standard bounce) that is that delivery's reader. Anyone can write a report naming
  any address; only we can write the MAC, and a genuine Message-ID comes back from its
  own reader's mailbox. A report we cannot tie to a delivery of ours this way changes
  nothing: it is stored as ignored, tied to nobody, and counts towards no limit.
* Hard bounce: the reader becomes ``bounced`` at once. Complaint: ``complained``, never
  mailed again. Soft bounce: the delivery is marked ``soft_bounce``, as the ledger marks
  a 4xx during the send, and the ledger's one rule decides
  (:func:`~newsletter.delivery.outcomes.soft_bounces_adding_up`): soft bounces, during the
  send or later, in ``bounces.soft_limit`` of the reader's last ``bounces.soft_window``
  editions, none delivered without one since, make them ``bounced``.
* Every report is stored once, keyed by its fingerprint (SHA-256 of the message with
  LF line endings, so the SMTP and the Maildir copy of one message are one report), and
  every outcome tied to a reader is an event with the reason. The same report fed in
  again is answered from the stored row and changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.db.models import (
    BounceReport,
    Delivery,
    DeliveryStatus,
    Edition,
    Event,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from newsletter.db.subscribers import record_event
from newsletter.delivery.attempt import Outcome
from newsletter.delivery.message_ids import message_ids
from newsletter.delivery.outcomes import SoftBouncePolicy, soft_bounces_adding_up
from newsletter.delivery.single import SingleMessageSender
from newsletter.errors import NewsletterError
from newsletter.mail.bounce import (
    Kind,
    Verdict,
    classify_message,
    clean_reason,
    envelope_candidates,
    parse,
)
from newsletter.mail.returns_alert import build_returns_alert
from newsletter.mail.verp import return_paths

log = logging.getLogger(__name__)

_ALERT = "returns_alert"


@dataclass(frozen=True)
class Processed:
    """The answer for one report, as ``bounces process --json`` prints it."""

    result: str
    email: str | None
    reason: str
    subscriber_id: int | None = None
    edition_id: int | None = None
    status: str | None = None
    duplicate: bool = False

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
    verdict = classify_message(message)
    recipient = envelope_recipient or _pick_recipient(settings, message)
    with database.session() as session:
        processed, alert = _apply(session, settings, verdict, recipient, fingerprint(raw), source)
    if alert is not None:
        _mail_owner(settings, alert)
    return processed


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


def process_event(
    database: Database, settings: Settings, event: RelayEvent, *, source: str
) -> Processed:
    verdict = Verdict(
        event.kind,
        clean_reason(event.reason),
        (event.email.lower(),) if event.email else (),
        (event.message_id,) if event.message_id else (),
    )
    print_ = hashlib.sha256(f"{source}\n{event.event_id}".encode()).hexdigest()
    with database.session() as session:
        processed, alert = _apply(session, settings, verdict, None, print_, source, by_address=True)
    if alert is not None:
        _mail_owner(settings, alert)
    return processed


def _pick_recipient(settings: Settings, message: Message) -> str | None:
    """``Delivered-To``, ``X-Original-To``, ``To``: the first that is one of ours."""
    candidates = envelope_candidates(message)
    paths = return_paths(settings)
    if paths is not None:
        for address in candidates:
            if paths.is_ours(address):
                return address
    return candidates[0] if candidates else None


def _apply(
    session: Session,
    settings: Settings,
    verdict: Verdict,
    recipient: str | None,
    print_: str,
    source: str,
    *,
    by_address: bool = False,
) -> tuple[Processed, _Alert | None]:
    known = session.scalar(select(BounceReport).where(BounceReport.fingerprint == print_))
    if known is not None:
        return _from_row(session, known, duplicate=True), None
    delivery, why_not = _find_delivery(session, settings, verdict, recipient, by_address)
    result = verdict.kind
    reason = verdict.reason
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
        return _from_row(session, known, duplicate=True), None
    alert = None
    if delivery is not None and result != Kind.IGNORED:
        _act(session, settings, report, delivery)
        if result != Kind.SOFT:
            alert = _alert_if_over_limit(session, settings, delivery.edition_id)
    log.info("returned message (%s): %s, %s", source, result, reason)
    return _from_row(session, report, duplicate=False), alert


def _find_delivery(
    session: Session,
    settings: Settings,
    verdict: Verdict,
    recipient: str | None,
    by_address: bool,
) -> tuple[Delivery | None, str]:
    """The delivery a report is about, or None and why not.

    A mail is tied to a delivery by a VERP token that verifies, or by one of our
    Message-IDs that verifies together with a recipient that is the delivery's reader.
    ``by_address`` (webhooks only, whose requests are verified) takes our Message-ID on
    its own, else the last delivery to the one address named: a mail naming an address
    proves nothing, anyone can write one."""
    paths = return_paths(settings)
    token = paths.token_of(recipient) if paths is not None and recipient else None
    if token:
        assert paths is not None
        delivery_id = paths.delivery_of(token)
        if delivery_id is None:
            return None, "the return-path token does not verify"
        delivery = session.get(Delivery, delivery_id)
        return delivery, "the return-path token names no delivery"
    ids = message_ids(settings)
    named = {address.lower() for address in verdict.recipients}
    why_not = "no message of ours found in it"
    for message_id in verdict.message_ids:
        ours = ids.read(message_id)
        if ours is None:
            continue
        edition_id, subscriber_id = ours
        found = session.execute(
            select(Delivery, Subscriber.email)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(
                Delivery.edition_id == edition_id,
                Delivery.subscriber_id == subscriber_id,
                Delivery.message_id == ids.make(edition_id, subscriber_id),
            )
        ).first()
        if found is None:
            continue
        delivery, email = found
        if by_address or (email is not None and email.lower() in named):
            return delivery, ""
        why_not = "our Message-ID, but the report names " + (
            "another recipient" if named else "no recipient"
        )
    if by_address and len(verdict.recipients) == 1:
        delivery = session.scalar(
            select(Delivery)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(
                Subscriber.email == verdict.recipients[0],
                Delivery.status == DeliveryStatus.SENT,
            )
            .order_by(Delivery.id.desc())
            .limit(1)
        )
        if delivery is not None:
            return delivery, ""
    return None, why_not


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


@dataclass(frozen=True)
class ReportInfo:
    """One stored report, for ``bounces list``."""

    received_at: datetime
    result: str
    email: str | None
    edition_id: int | None
    source: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "received_at": self.received_at.isoformat(),
            "result": self.result,
            "email": self.email,
            "edition": self.edition_id,
            "source": self.source,
            "reason": self.reason,
        }


def recent_reports(session: Session, limit: int) -> list[ReportInfo]:
    rows = session.execute(
        select(BounceReport, Subscriber.email)
        .outerjoin(Subscriber, Subscriber.id == BounceReport.subscriber_id)
        .order_by(BounceReport.id.desc())
        .limit(max(limit, 0))
    ).all()
    return [
        ReportInfo(
            report.received_at,
            report.result,
            email,
            report.edition_id,
            report.source,
            report.reason,
        )
        for report, email in rows
    ]


@dataclass(frozen=True)
class EditionReturns:
    """What came back for one edition, for ``editions show``: distinct readers each."""

    hard: int
    soft: int
    complaints: int
    unsubscribes: int

    def to_json(self) -> dict[str, Any]:
        return {
            "bounces": {"hard": self.hard, "soft": self.soft},
            "complaints": self.complaints,
            "unsubscribes": self.unsubscribes,
        }


def edition_returns(session: Session, edition_id: int) -> EditionReturns:
    """Hard bounces count both kinds: refused during the send for good (the ledger's hard
    ``bounce`` events; not the readers its soft-bounce rule marked) and reported later.
    Soft bounces too: a 4xx that no retry delivered (the delivery's ``soft_bounce``, which
    a late soft report also sets) or a soft report. Unsubscribes are the edition's readers
    who unsubscribed after it started and before the next edition started (as Mailchimp
    attributes them)."""

    def readers(result: str) -> set[int]:
        return set(
            session.scalars(
                select(BounceReport.subscriber_id).where(
                    BounceReport.edition_id == edition_id,
                    BounceReport.result == result,
                    BounceReport.subscriber_id.is_not(None),
                )
            )
        )

    refused = refused_for_good(session, edition_id)
    soft_at_send = set(
        session.scalars(
            select(Delivery.subscriber_id).where(
                Delivery.edition_id == edition_id, Delivery.soft_bounce.is_(True)
            )
        )
    )
    edition = session.get(Edition, edition_id)
    unsubscribes = 0
    if edition is not None and edition.started_at is not None:
        next_start = session.scalar(
            select(func.min(Edition.started_at)).where(
                Edition.id > edition_id, Edition.started_at.is_not(None)
            )
        )
        window = [Event.occurred_at >= edition.started_at]
        if next_start is not None:
            window.append(Event.occurred_at < next_start)
        unsubscribes = (
            session.scalar(
                select(func.count(func.distinct(Event.subscriber_id))).where(
                    Event.kind == "unsubscribe",
                    *window,
                    Event.subscriber_id.in_(
                        select(Delivery.subscriber_id).where(
                            Delivery.edition_id == edition_id,
                            Delivery.status == DeliveryStatus.SENT,
                        )
                    ),
                )
            )
            or 0
        )
    return EditionReturns(
        hard=len((readers(Kind.HARD) | refused) - {None}),
        soft=len((readers(Kind.SOFT) | soft_at_send) - {None}),
        complaints=len(readers(Kind.COMPLAINT)),
        unsubscribes=unsubscribes,
    )


def refused_for_good(session: Session, edition_id: int) -> set[int]:
    """The readers whose address the relay refused for good during the send (5.1.x): a
    hard bounce, which the returns alert speaks of, not a failure of the send itself."""
    return {
        subscriber_id
        for subscriber_id, detail in session.execute(
            select(Event.subscriber_id, Event.detail).where(
                Event.kind == "bounce", Event.actor == "sender", Event.edition_id == edition_id
            )
        )
        if _refused_for_good(detail or {})
    }


def _refused_for_good(detail: dict[str, Any]) -> bool:
    """A ledger ``bounce`` event for an address that does not exist (a 5.1.x), not one for
    temporary failures that added up. Events written before ``type`` was: by the reason."""
    if "type" in detail:
        return bool(detail["type"] == "hard")
    return bool(detail.get("reason") == "the address does not exist")


@dataclass(frozen=True)
class _Alert:
    edition_id: int
    subject: str
    recipients: int
    returns: EditionReturns


def _alert_if_over_limit(session: Session, settings: Settings, edition_id: int) -> _Alert | None:
    """Once per edition: past a limit, record the alert (which holds the next weekly
    edition, see :func:`hold_reason`) and return what the owner's mail needs."""
    edition = session.get(Edition, edition_id)
    if edition is None or not edition.recipients:
        return None
    already = session.scalar(
        select(func.count())
        .select_from(Event)
        .where(Event.kind == _ALERT, Event.edition_id == edition_id)
    )
    if already:
        return None
    session.flush()
    returns = edition_returns(session, edition_id)
    limits = settings.bounces
    over = (
        returns.hard * 100 > limits.hard_alert_percent * edition.recipients
        or returns.complaints * 100 > limits.complaint_alert_percent * edition.recipients
    )
    if not over:
        return None
    record_event(
        session,
        _ALERT,
        "bounces",
        edition_id=edition_id,
        recipients=edition.recipients,
        hard=returns.hard,
        complaints=returns.complaints,
    )
    log.warning(
        "edition %d: %d hard bounces and %d complaints of %d recipients; "
        "the next weekly edition will be held",
        edition_id,
        returns.hard,
        returns.complaints,
        edition.recipients,
    )
    return _Alert(edition_id, edition.subject, edition.recipients, returns)


def check_limits(database: Database, settings: Settings, edition_id: int) -> None:
    """After a send: the relay may have refused enough addresses (the ledger's bounces)
    to pass a limit already, before any late report arrives."""
    with database.session() as session:
        alert = _alert_if_over_limit(session, settings, edition_id)
    if alert is not None:
        _mail_owner(settings, alert)


def _mail_owner(settings: Settings, alert: _Alert) -> None:
    owner = settings.newsletter.owner_address
    if not owner:
        log.warning("newsletter.owner_address is empty: nobody is told about the alert")
        return
    message = build_returns_alert(
        settings,
        edition_id=alert.edition_id,
        subject=alert.subject,
        recipients=alert.recipients,
        hard=alert.returns.hard,
        complaints=alert.returns.complaints,
        now=utcnow(),
    )
    try:
        attempt = SingleMessageSender(settings).send_blocking(message, owner)
    except NewsletterError as exc:
        log.error("the alert mail to %s could not be sent: %s", owner, exc)
        return
    if attempt.outcome != Outcome.SENT:
        log.error("the alert mail to %s was not accepted: %s", owner, attempt.reply)


def hold_reason(session: Session, edition_id: int) -> str | None:
    """Why the weekly edition ``edition_id``, just made, must wait for the owner: an alert
    that came after every other edition was made. None when there is no such alert."""
    alert = session.scalar(select(Event).where(Event.kind == _ALERT).order_by(Event.id.desc()))
    if alert is None:
        return None
    later = session.scalar(
        select(func.count())
        .select_from(Edition)
        .where(Edition.id != edition_id, Edition.created_at > alert.occurred_at)
    )
    if later:
        return None
    detail = alert.detail or {}
    return (
        f"edition {alert.edition_id} had {detail.get('hard', '?')} hard bounces and "
        f"{detail.get('complaints', '?')} complaints of {detail.get('recipients', '?')} "
        "recipients (see `newsletter bounces list`); release with `newsletter editions "
        f"release {edition_id}` or cancel"
    )
