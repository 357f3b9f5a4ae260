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
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import BouncesSection, Settings
from newsletter.db.alerts import ONCE, record_alert
from newsletter.db.events import record_event
from newsletter.db.models import (
    BounceReport,
    Delivery,
    Edition,
    Event,
    ReportResult,
    Subscriber,
    SubscriberStatus,
)
from newsletter.delivery.domain_hold import (
    HELD,
    SuspectPolicy,
    domain_of,
    hard_readers,
    mail_to,
    send_refusals,
)
from newsletter.errors import InputError
from newsletter.mail.returns_alert import suspect_notice
from newsletter.returns.limits import check_limits

log = logging.getLogger(__name__)

_ALERT = "suspect:"  # the owner alert's cause: this, the edition id, ":" and the domain


def hard_or_suspect(
    session: Session, limits: BouncesSection, delivery: Delivery, domain: str | None
) -> ReportResult:
    """``hard``, or ``suspect`` when this hard verdict takes its domain past the hold."""
    if domain is None:
        return ReportResult.HARD
    connection = session.connection()
    held = hard_readers(connection, delivery.edition_id, domain) | {delivery.subscriber_id}
    mail = mail_to(connection, delivery.edition_id, domain)
    if SuspectPolicy.of(limits).holds(len(held), mail):
        return ReportResult.SUSPECT
    return ReportResult.HARD


def alert(session: Session, edition_id: int, domain: str | None) -> None:
    """Once per edition and domain: ask the owner to look at the held hard bounces."""
    edition = session.get(Edition, edition_id)
    if edition is None or domain is None:
        return
    connection = session.connection()
    held = len(hard_readers(connection, edition_id, domain))
    notice = suspect_notice(
        edition_id=edition_id,
        subject=edition.subject,
        domain=domain,
        held=held,
        mail=mail_to(connection, edition_id, domain),
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
    """The owner looked: the held verdicts of ``edition_id`` at ``domain`` (reports, and
    refusals during the send) are hard after all. Their readers who are still active
    become ``bounced``; how many were held."""
    domain = domain.strip().lower()
    rows = session.scalars(
        select(BounceReport).where(
            BounceReport.edition_id == edition_id,
            BounceReport.domain == domain,
            BounceReport.result == ReportResult.SUSPECT,
        )
    ).all()
    refusals = _held_at_send(session, edition_id).get(domain, [])
    if not rows and not refusals:
        raise InputError(f"edition {edition_id} has no held hard bounces at {domain}")
    for report in rows:
        report.result = ReportResult.HARD
        _drop(session, actor, report.subscriber_id, edition_id, report.reason, report=report.id)
    for event in refusals:
        _drop(session, actor, event.subscriber_id, edition_id, "userunknown", refusal=event.id)
    check_limits(session, settings.bounces, edition_id)
    return len(rows) + len(refusals)


def _drop(
    session: Session,
    actor: str,
    subscriber_id: int | None,
    edition_id: int,
    reason: str,
    **held: int,
) -> None:
    subscriber = session.get(Subscriber, subscriber_id) if subscriber_id is not None else None
    if subscriber is None:
        return
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
        reason=reason,
        **held,
        confirmed=True,
        status_before=before,
        status_after=subscriber.status,
    )


def _held_at_send(session: Session, edition_id: int) -> dict[str, list[Event]]:
    """The refusals during the send that the suspect rule held and nobody confirmed yet,
    per receiving domain."""
    refusals = send_refusals(session.connection(), edition_id)
    held_readers = [reader for reader, what in refusals.items() if what == HELD]
    held: dict[str, list[Event]] = defaultdict(list)
    rows = session.execute(
        select(Event, Subscriber.email)
        .join(Subscriber, Subscriber.id == Event.subscriber_id)
        .where(
            Event.kind == "bounce",
            Event.actor == "sender",
            Event.edition_id == edition_id,
            Event.subscriber_id.in_(held_readers),
        )
        .order_by(Event.id)
    )
    for event, email in rows:
        if (event.detail or {}).get("type") == HELD and email:
            held[domain_of(email)].append(event)
    return held


def alert_held_at_send(session: Session, edition_id: int) -> None:
    """After a send: ask the owner about each domain whose refusals were held."""
    for domain in _held_at_send(session, edition_id):
        alert(session, edition_id, domain)
