"""The weekly report: a day after an edition went out, its figures to the owner by mail.

Recorded as an owner alert (cause ``weekly-report:ID``, once), so it travels the one
owner-notice path: :mod:`newsletter.runtime.owner_mail` mails it, together with any
other alert about that edition. A day's wait lets the night's bounces and complaints in;
editions that finished more than a week before that are never reported, so switching the
report on (or upgrading) mails no backlog. ``owner.weekly_report = false`` turns it off.

The figures are :mod:`newsletter.returns.edition_figures`, as on the edition's page.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db.alerts import ONCE, local_moment, record_alert
from newsletter.db.models import Edition, EditionStatus
from newsletter.mail.owner import dutch_percent
from newsletter.returns.edition_figures import (
    EditionFigures,
    ReturnedPage,
    edition_figures,
    edition_returned,
)

REPORT_AFTER = timedelta(days=1)
REPORT_WINDOW = timedelta(days=7)
CAUSE = "weekly-report:"
MOST_RETURNED_LINES = 20
TOP_DOMAINS = 10
_KINDS = {
    "hard": "hard",
    "soft": "zacht",
    "complaint": "klacht",
    "sender": "afzender",
    "suspect": "verdacht",
}


def record_weekly_reports(session: Session, settings: Settings, now: datetime) -> int:
    """Record the report of every edition that finished a day ago (within the window) and
    has none yet; how many were recorded now."""
    if not settings.owner.weekly_report:
        return 0
    due = session.scalars(
        select(Edition.id).where(
            Edition.status == EditionStatus.SENT,
            Edition.finished_at <= now - REPORT_AFTER,
            Edition.finished_at > now - REPORT_AFTER - REPORT_WINDOW,
        )
    )
    zone = ZoneInfo(settings.schedule.timezone)
    area = settings.newsletter.base_url.rstrip("/") + "/beheer/editie/"
    recorded = 0
    for edition_id in list(due):
        figures = edition_figures(session, edition_id, top_domains=TOP_DOMAINS)
        report = "\n\n".join(
            part
            for part in (
                tally_lines(figures),
                domain_lines(figures),
                returned_lines(edition_returned(session, edition_id, 1, MOST_RETURNED_LINES)),
                f"Alles van deze editie: {area}{edition_id}",
            )
            if part
        )
        recorded += record_alert(
            session,
            cause=f"{CAUSE}{edition_id}",
            period=ONCE,
            subject=f"Nieuwsbrief: de cijfers van editie {edition_id}",
            paragraphs=[_opening(figures, zone)],
            report=report,
            edition_id=edition_id,
        )
    return recorded


def _opening(figures: EditionFigures, zone: tzinfo) -> str:
    started = figures.started_at
    when = f" op {local_moment(started, zone)}" if started else ""
    return (
        f"Editie {figures.id} ({figures.subject}) ging{when} naar {figures.recipients} "
        "lezers. Zo staat ze er nu voor:"
    )


def tally_lines(figures: EditionFigures) -> str:
    rows = [
        ("Verstuurd", str(figures.sent)),
        ("Uitgesteld", str(figures.deferred)),
        ("Mislukt", str(figures.failed)),
        ("Harde bounces", f"{figures.hard} ({dutch_percent(figures.hard_percent, '.2f')})"),
        ("Zachte bounces", str(figures.soft)),
        ("Geweigerd (afzender)", str(figures.sender)),
        ("Verdacht, in de wacht", str(figures.suspect)),
        ("Klachten", f"{figures.complaints} ({dutch_percent(figures.complaint_percent, '.2f')})"),
        ("Afmeldingen", str(figures.unsubscribes)),
    ]
    return "\n".join(f"{label:<22}{value}" for label, value in rows)


def domain_lines(figures: EditionFigures) -> str:
    """The receiving domains with the most mail, as the edition's page has them."""
    if not figures.by_domain:
        return ""
    lines = [f"{'Per domein':<24}{'verst.':>7}{'hard':>6}{'zacht':>6}{'afz.':>6}{'klacht':>7}"]
    lines += [
        f"{d.domain:<24}{d.sent:>7}{d.hard:>6}{d.soft:>6}{d.sender:>6}{d.complaints:>7}"
        for d in figures.by_domain
    ]
    return "\n".join(lines)


def returned_lines(returned: ReturnedPage) -> str:
    if not returned.rows:
        return "Er kwam niets terug."
    lines = ["Wat er terugkwam (nieuwste eerst):"]
    lines += [
        f"- {_KINDS.get(item.kind, item.kind)}: {item.email or '(gewist)'}: "
        + ": ".join(part for part in (item.reason, item.diagnostic) if part)
        for item in returned.rows
    ]
    if returned.total > len(returned.rows):
        lines.append(f"... en nog {returned.total - len(returned.rows)} (zie de pagina)")
    return "\n".join(lines)
