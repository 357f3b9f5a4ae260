"""Rejections on our side (``sender`` verdicts: blocked, authentication, policy, rate):
the reader did nothing wrong and stays as they are; the owner is the one who can act.

An edition with any gets one owner alert (cause ``sender_rejections``, the edition as its
period) naming per receiving domain what the server replied and the likely fix. The alert
is rewritten while it waits for the mailer, so rejections that arrive together (a folder
processed at once, a provider answering a whole send) make one mail with every domain.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.db.alerts import rewrite_pending
from newsletter.db.models import BounceReport, Edition, ReportResult
from newsletter.mail.returns_alert import Rejection, sender_notice
from newsletter.returns.report import refused_on_our_side

log = logging.getLogger(__name__)

CAUSE = "sender_rejections"


def alert_sender_rejections(session: Session, edition_id: int) -> None:
    edition = session.get(Edition, edition_id)
    if edition is None:
        return
    rejections = edition_rejections(session, edition_id)
    if not rejections:
        return
    notice = sender_notice(edition_id=edition_id, subject=edition.subject, rejections=rejections)
    if rewrite_pending(
        session,
        cause=CAUSE,
        period=f"edition-{edition_id}",
        subject=notice.subject,
        paragraphs=notice.paragraphs,
        edition_id=edition_id,
    ):
        log.warning("edition %d: rejected on our side by %d domains", edition_id, len(rejections))


def edition_rejections(session: Session, edition_id: int) -> list[Rejection]:
    """Per receiving domain and reason, most first: how many, and the first reply; the
    reports that came back later and the refusals during the send alike."""
    rows = session.execute(
        select(
            BounceReport.domain,
            BounceReport.reason,
            BounceReport.reply_code,
            BounceReport.status,
            BounceReport.diagnostic,
        )
        .where(BounceReport.edition_id == edition_id, BounceReport.result == ReportResult.SENDER)
        .order_by(BounceReport.id)
    ).all()
    replies = [
        (domain, reason, _reply(reply_code, status, diagnostic))
        for domain, reason, reply_code, status, diagnostic in rows
    ] + [(r.domain, r.reply.reason, r.text) for r in refused_on_our_side(session, edition_id)]
    found: dict[tuple[str, str], Rejection] = {}
    for domain, reason, reply in replies:
        key = (domain or "?", reason)
        seen = found.get(key)
        if seen is None:
            found[key] = Rejection(key[0], reason, 1, reply)
        else:
            found[key] = Rejection(seen.domain, reason, seen.count + 1, seen.reply)
    return sorted(found.values(), key=lambda r: (-r.count, r.domain, r.reason))


def _reply(reply_code: int | None, status: str | None, diagnostic: str) -> str:
    """A report's reply as the server gave it: the codes, unless the words carry them."""
    codes = " ".join(str(p) for p in (reply_code, status) if p and str(p) not in diagnostic)
    return f"{codes} {diagnostic}".strip()
