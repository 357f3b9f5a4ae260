"""What a late bounce or complaint does: the one place every way in (a file or pipe, the
inbound listener, a mailbox) hands a returned message to.

* The delivery is found by the VERP token of the envelope recipient; a token that does
  not verify stops there and changes nothing. Without a token, by one of our Message-IDs
  in the returned headers (``<edition.subscriber.stamp@domain>``, checked against the
  ledger row). A report we cannot tie to a delivery of ours changes nothing.
* Hard bounce: the reader becomes ``bounced`` at once. Complaint: ``complained``, never
  mailed again. Soft bounce: counted; soft bounces in ``bounces.soft_limit`` of the last
  ``bounces.soft_window`` editions sent to the reader make them ``bounced``. (The SMTP
  soft bounces of the send itself are counted by the ledger; this count covers the late
  ones only and is kept in ``bounce_reports``.)
* Every report is stored once, keyed by its fingerprint (SHA-256 of the message with
  LF line endings, so the SMTP and the Maildir copy of one message are one report), and
  every outcome tied to a reader is an event with the reason. The same report fed in
  again is answered from the stored row and changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import re
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
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from newsletter.db.subscribers import record_event
from newsletter.mail.bounce import Kind, Verdict, classify_message, envelope_candidates, parse
from newsletter.mail.verp import return_paths

log = logging.getLogger(__name__)

_OUR_MESSAGE_ID = re.compile(r"<(\d+)\.(\d+)\.(\d{14})@([^<>\s]+)>")


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


def accepts(settings: Settings, address: str) -> bool:
    """Whether mail to ``address`` is for us as bounces (the bounce address or +TOKEN)."""
    paths = return_paths(settings)
    return paths is not None and paths.is_ours(address)


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
        return _apply(session, settings, verdict, recipient, fingerprint(raw), source)


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
) -> Processed:
    known = session.scalar(select(BounceReport).where(BounceReport.fingerprint == print_))
    if known is not None:
        return _from_row(session, known, duplicate=True)
    delivery, why_not = _find_delivery(session, settings, verdict, recipient)
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
        return _from_row(session, known, duplicate=True)
    if delivery is not None and result != Kind.IGNORED:
        _act(session, settings, report, delivery)
    log.info("returned message (%s): %s, %s", source, result, reason)
    return _from_row(session, report, duplicate=False)


def _find_delivery(
    session: Session, settings: Settings, verdict: Verdict, recipient: str | None
) -> tuple[Delivery | None, str]:
    paths = return_paths(settings)
    token = paths.token_of(recipient) if paths is not None and recipient else None
    if token:
        assert paths is not None
        delivery_id = paths.delivery_of(token)
        if delivery_id is None:
            return None, "the return-path token does not verify"
        delivery = session.get(Delivery, delivery_id)
        return delivery, "the return-path token names no delivery"
    domain = settings.newsletter.from_address.rpartition("@")[2].lower()
    for message_id in verdict.message_ids:
        match = _OUR_MESSAGE_ID.fullmatch(message_id)
        if match is None or match[4].lower() != domain:
            continue
        delivery = session.scalar(
            select(Delivery).where(
                Delivery.edition_id == int(match[1]),
                Delivery.subscriber_id == int(match[2]),
                Delivery.message_id == message_id,
            )
        )
        if delivery is not None:
            return delivery, ""
    return None, "no message of ours found in it"


def _act(session: Session, settings: Settings, report: BounceReport, delivery: Delivery) -> None:
    subscriber = session.get(Subscriber, delivery.subscriber_id)
    assert subscriber is not None
    before = subscriber.status
    if report.result == Kind.HARD and before == SubscriberStatus.ACTIVE:
        subscriber.status = SubscriberStatus.BOUNCED
    elif report.result == Kind.COMPLAINT and before != SubscriberStatus.COMPLAINED:
        subscriber.status = SubscriberStatus.COMPLAINED
        subscriber.unsubscribed_at = subscriber.unsubscribed_at or utcnow()
    elif report.result == Kind.SOFT and before == SubscriberStatus.ACTIVE:
        editions = _soft_bounce_editions(session, settings, subscriber.id)
        if editions >= settings.bounces.soft_limit:
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


def _soft_bounce_editions(session: Session, settings: Settings, subscriber_id: int) -> int:
    """In how many of the last ``soft_window`` editions sent to the reader a soft bounce came."""
    recent = (
        select(Delivery.edition_id)
        .where(Delivery.subscriber_id == subscriber_id)
        .order_by(Delivery.edition_id.desc())
        .limit(settings.bounces.soft_window)
        .scalar_subquery()
    )
    return (
        session.scalar(
            select(func.count(func.distinct(BounceReport.edition_id))).where(
                BounceReport.subscriber_id == subscriber_id,
                BounceReport.result == Kind.SOFT,
                BounceReport.edition_id.in_(recent),
            )
        )
        or 0
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
