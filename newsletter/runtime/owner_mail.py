"""The one sender of owner mail: every pending alert, claimed, mailed, marked or given back.

Whoever sees a cause records an alert (:mod:`newsletter.db.alerts`); this module is the
only one that mails them, through the single-message sender. A group of alerts is claimed
by one conditional UPDATE before its mail goes out, so two daemons never both mail it; a
mail the relay does not take gives its claim back, and a later run tries again (not
sooner than :data:`~newsletter.db.alerts.RETRY_AFTER`). The alerts of one edition (too
many failures, too many hard bounces) go out together, as one mail.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from functools import partial

from newsletter.config import Settings
from newsletter.db import alerts
from newsletter.db.database import Database
from newsletter.db.models import AlertStatus, OwnerAlert
from newsletter.delivery.single import send_one
from newsletter.mail.owner import Notice, build_owner_message

log = logging.getLogger(__name__)


def mail_pending_alerts(database: Database, settings: Settings, now: datetime) -> int:
    """Mail every alert that is due now, one mail per edition or per other alert; how many
    mails went out. Without ``newsletter.owner_address`` they are only logged."""
    with database.session() as session:
        groups = _groups(alerts.claimable(session, now))
    return sum(_mail_group(database, settings, group, now) for group in groups)


def _groups(pending: Sequence[OwnerAlert]) -> list[list[OwnerAlert]]:
    """The alerts of one edition together, every other alert on its own; oldest first."""
    by_edition: dict[int, list[OwnerAlert]] = {}
    groups: list[list[OwnerAlert]] = []
    for alert in pending:
        if alert.edition_id is None:
            groups.append([alert])
        elif alert.edition_id in by_edition:
            by_edition[alert.edition_id].append(alert)
        else:
            by_edition[alert.edition_id] = [alert]
            groups.append(by_edition[alert.edition_id])
    return groups


def _mail_group(
    database: Database, settings: Settings, group: list[OwnerAlert], now: datetime
) -> bool:
    with database.session() as session:
        taken = set(alerts.claim(session, [alert.id for alert in group], now))
    mine = [alert for alert in group if alert.id in taken]
    if not mine:
        return False  # another mailer took them a moment ago
    ids = [alert.id for alert in mine]
    notices = [_notice(alert) for alert in mine]
    owner = settings.newsletter.owner_address
    if not owner:
        for notice in notices:
            log.warning("%s (set newsletter.owner_address to be told by mail)", notice.subject)
        with database.session() as session:
            alerts.finish(session, ids, now, AlertStatus.LOGGED)
        return False
    problem = _send(settings, notices, mine[0].edition_id, now)
    with database.session() as session:
        if problem is None:
            alerts.finish(session, ids, now, AlertStatus.SENT)
        else:
            alerts.release(session, ids)
    subjects = "; ".join(notice.subject for notice in notices)
    if problem is not None:
        log.error("could not tell the owner (%s): %s; trying again later", subjects, problem)
        return False
    log.info("told the owner: %s", subjects)
    return True


def _notice(alert: OwnerAlert) -> Notice:
    details = alert.details
    return Notice(alert.subject, list(details.get("paragraphs", [])), details.get("report"))


def _send(
    settings: Settings, notices: Sequence[Notice], edition_id: int | None, now: datetime
) -> str | None:
    """Mail the owner; None when the relay took it, else what went wrong."""
    build = partial(
        build_owner_message, settings.newsletter, notices, edition_id=edition_id, now=now
    )
    return send_one(settings, build, settings.newsletter.owner_address).problem
