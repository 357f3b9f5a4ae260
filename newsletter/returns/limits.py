"""The returns limits: an edition whose hard bounces or complaints pass a threshold of its
recipients records an owner alert, once for each set of limits passed, which holds the
next weekly edition (:func:`hold_reason`) until the owner releases it.

Checked after each late report that is not soft (:mod:`newsletter.returns.apply`) and
after a send in which the relay refused addresses (``runtime.alerts``, after the daemon's
sends and ``newsletter send``). Nothing here mails: ``runtime.owner_mail`` mails the alert.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.config import BouncesSection
from newsletter.db.alerts import ONCE, latest, record_alert
from newsletter.db.models import Edition
from newsletter.mail.returns_alert import returns_notice
from newsletter.returns.report import edition_returns

log = logging.getLogger(__name__)

_ALERT = "returns:"  # the owner alert's cause: this, the edition id, ":" and the limits passed


def check_limits(session: Session, limits: BouncesSection, edition_id: int) -> bool:
    """Once per edition and set of limits passed: record the owner alert, which holds the
    next weekly edition (see :func:`hold_reason`). True when it was recorded now.

    The cause names the limits passed, so complaints that pass theirs after the hard
    bounces' alert went out are told too, and the same limits passed again are not."""
    edition = session.get(Edition, edition_id)
    if edition is None or not edition.recipients:
        return False
    session.flush()
    returns = edition_returns(session, edition_id)
    passed = [
        name
        for name, count, percent in (
            ("hard", returns.hard, limits.hard_alert_percent),
            ("complaints", returns.complaints, limits.complaint_alert_percent),
        )
        if count * 100 > percent * edition.recipients
    ]
    if not passed:
        return False
    numbers = {
        "recipients": edition.recipients,
        "hard": returns.hard,
        "complaints": returns.complaints,
    }
    notice = returns_notice(limits, edition_id=edition_id, subject=edition.subject, **numbers)
    recorded = record_alert(
        session,
        cause=f"{_ALERT}{edition_id}:{'+'.join(passed)}",
        period=ONCE,
        subject=notice.subject,
        paragraphs=notice.paragraphs,
        edition_id=edition_id,
        extra={"returns": numbers},
    )
    if recorded:
        log.warning(
            "edition %d: %d hard bounces and %d complaints of %d recipients; "
            "the next weekly edition will be held",
            edition_id,
            returns.hard,
            returns.complaints,
            edition.recipients,
        )
    return recorded


def hold_reason(session: Session, edition_id: int) -> str | None:
    """Why the weekly edition ``edition_id``, just made, must wait for the owner: an alert
    that came after every other edition was made. None when there is no such alert."""
    alert = latest(session, _ALERT)
    if alert is None:
        return None
    later = session.scalar(
        select(func.count())
        .select_from(Edition)
        .where(Edition.id != edition_id, Edition.created_at > alert.recorded_at)
    )
    if later:
        return None
    detail = alert.details.get("returns", {})
    return (
        f"edition {alert.edition_id} had {detail.get('hard', '?')} hard bounces and "
        f"{detail.get('complaints', '?')} complaints of {detail.get('recipients', '?')} "
        "recipients (see `newsletter bounces list`); release with `newsletter editions "
        f"release {edition_id}` or cancel"
    )
