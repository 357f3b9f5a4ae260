"""Never lose a domain's readers by mistake: hard bounces held as ``suspect``.

A receiving domain does not lose a fifth of its users in a week. When it says so anyway
(a provider's bad day, a blocklisting answered with "user unknown"), dropping them would
silently unsubscribe every reader there. So a hard verdict is held when, counted with it,
one edition's hard bounces at its reader's domain (reported later, held, or refused
during the send) are at least ``bounces.suspect_minimum`` (5) and more than
``bounces.suspect_percent`` (20%) of the edition's mail to that domain (sent or refused).

A held verdict is stored as ``suspect`` and the reader stays active: no status of their
own, so everything that reads a status, from the next send to ``subscribers count``,
keeps treating them as the reader they may well still be. The owner gets one alert per
edition and domain asking them to look. ``bounces confirm EDITION DOMAIN``
(:func:`confirm`) settles it when the addresses really are gone; doing nothing keeps the
readers, and one who is really gone bounces again on an edition where the domain is not
failing.
"""

from __future__ import annotations

import logging

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from newsletter.config import BouncesSection, Settings
from newsletter.db.alerts import ONCE, record_alert
from newsletter.db.events import record_event
from newsletter.db.models import (
    BounceReport,
    Delivery,
    DeliveryStatus,
    Edition,
    ReportResult,
    Subscriber,
    SubscriberStatus,
)
from newsletter.errors import InputError
from newsletter.mail.returns_alert import suspect_notice
from newsletter.returns.limits import check_limits
from newsletter.returns.report import refused_for_good

log = logging.getLogger(__name__)

_ALERT = "suspect:"  # the owner alert's cause: this, the edition id, ":" and the domain


def hard_or_suspect(
    session: Session, limits: BouncesSection, delivery: Delivery, domain: str | None
) -> ReportResult:
    """``hard``, or ``suspect`` when this hard verdict takes its domain past the hold."""
    if domain is None:
        return ReportResult.HARD
    held = _hard_readers(session, delivery.edition_id, domain) | {delivery.subscriber_id}
    mail = _mail_to(session, delivery.edition_id, domain)
    if len(held) >= limits.suspect_minimum and len(held) * 100 > limits.suspect_percent * mail:
        return ReportResult.SUSPECT
    return ReportResult.HARD


def _hard_readers(session: Session, edition_id: int, domain: str) -> set[int]:
    reported = session.scalars(
        select(BounceReport.subscriber_id).where(
            BounceReport.edition_id == edition_id,
            BounceReport.domain == domain,
            BounceReport.result.in_((ReportResult.HARD, ReportResult.SUSPECT)),
            BounceReport.subscriber_id.is_not(None),
        )
    )
    refused = refused_for_good(session, edition_id)
    at_domain = session.scalars(
        select(Subscriber.id).where(Subscriber.id.in_(refused), _at(domain))
    )
    return {reader for reader in reported if reader is not None} | set(at_domain)


def _mail_to(session: Session, edition_id: int, domain: str) -> int:
    """The edition's messages to ``domain`` that reached the relay's answer: sent or refused."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Delivery)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(
                Delivery.edition_id == edition_id,
                Delivery.status.in_((DeliveryStatus.SENT, DeliveryStatus.FAILED)),
                _at(domain),
            )
        )
        or 0
    )


def _at(domain: str) -> ColumnElement[bool]:
    return Subscriber.email.endswith(f"@{domain}", autoescape=True)


def alert(session: Session, limits: BouncesSection, edition_id: int, domain: str | None) -> None:
    """Once per edition and domain: ask the owner to look at the held hard bounces."""
    edition = session.get(Edition, edition_id)
    if edition is None or domain is None:
        return
    held = len(_hard_readers(session, edition_id, domain))
    notice = suspect_notice(
        edition_id=edition_id,
        subject=edition.subject,
        domain=domain,
        held=held,
        mail=_mail_to(session, edition_id, domain),
        share=limits.suspect_percent,
    )
    if record_alert(
        session,
        cause=f"{_ALERT}{edition_id}:{domain}",
        period=ONCE,
        subject=notice.subject,
        paragraphs=notice.paragraphs,
        edition_id=edition_id,
    ):
        log.warning("edition %d: hard bounces at %s held as suspect", edition_id, domain)


def confirm(
    session: Session, settings: Settings, edition_id: int, domain: str, *, actor: str
) -> int:
    """The owner looked: the held verdicts of ``edition_id`` at ``domain`` are hard after
    all. Their readers who are still active become ``bounced``; how many were held."""
    domain = domain.strip().lower()
    rows = session.scalars(
        select(BounceReport).where(
            BounceReport.edition_id == edition_id,
            BounceReport.domain == domain,
            BounceReport.result == ReportResult.SUSPECT,
        )
    ).all()
    if not rows:
        raise InputError(f"edition {edition_id} has no held hard bounces at {domain}")
    for report in rows:
        report.result = ReportResult.HARD
        subscriber = session.get(Subscriber, report.subscriber_id)
        if subscriber is None:
            continue
        before = subscriber.status
        if before == SubscriberStatus.ACTIVE:
            subscriber.status = SubscriberStatus.BOUNCED
        record_event(
            session,
            "bounce",
            actor,
            subscriber.id,
            edition_id,
            type=ReportResult.HARD,
            reason=report.reason,
            report=report.id,
            confirmed=True,
            status_before=before,
            status_after=subscriber.status,
        )
    check_limits(session, settings.bounces, edition_id)
    return len(rows)
