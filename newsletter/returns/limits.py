"""The returns limits: an edition whose hard bounces or complaints pass a threshold of its
recipients tells the owner once and holds the next weekly edition (:func:`hold_reason`)
until the owner releases it.

Checked after each late report that is not soft (:mod:`newsletter.returns.apply`) and
after a send in which the relay refused addresses (the doors that send call
:func:`check_limits`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.db.events import record_event
from newsletter.db.models import Edition, Event, utcnow
from newsletter.delivery.attempt import Outcome
from newsletter.delivery.single import SingleMessageSender
from newsletter.errors import NewsletterError
from newsletter.mail.returns_alert import build_returns_alert
from newsletter.returns.report import EditionReturns, edition_returns

log = logging.getLogger(__name__)

_ALERT = "returns_alert"


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
