"""The scheduler's reasons to tell the owner, recorded as alerts and then mailed.

The queue will be empty at the next slot (a day ahead, or at the slot itself when that
warning could not go out, e.g. after downtime), an edition was held by the pre-send
check (or made held, as the owner asked), an edition ended with too many failed
deliveries; after a send also the returns threshold
(:func:`~newsletter.returns.limits.check_limits`), the refusals on our side
(:mod:`newsletter.returns.senders`) and the hard refusals held as suspect
(:mod:`newsletter.returns.suspect`), and in the periodic watch a feed that has failed for
a day (:mod:`newsletter.feeds.failing`) and the weekly report of an edition
(:mod:`newsletter.returns.weekly_report`). Each is recorded once per cause per week
(:mod:`newsletter.db.alerts`), then :mod:`.owner_mail` mails what is pending, so a mail
that failed before goes out with it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db import owner_hold, post_queue
from newsletter.db.alerts import local_moment, record_alert
from newsletter.db.database import Database
from newsletter.db.models import Edition
from newsletter.delivery.editions import counts
from newsletter.delivery.engine import SendSummary
from newsletter.delivery.publish import Published
from newsletter.delivery.slots import next_slot, week_key
from newsletter.feeds.failing import record_failing_feeds
from newsletter.mail.owner import Notice
from newsletter.returns.limits import check_limits
from newsletter.returns.report import refused_for_good
from newsletter.returns.senders import alert_sender_rejections
from newsletter.returns.suspect import alert_held_at_send
from newsletter.returns.weekly_report import record_weekly_reports
from newsletter.runtime.owner_mail import mail_pending_alerts

EMPTY_QUEUE_NOTICE = timedelta(days=1)


def _week(settings: Settings, moment: datetime) -> str:
    return week_key(moment, ZoneInfo(settings.schedule.timezone))


def after_publish(
    database: Database,
    settings: Settings,
    key: str,
    published: Published,
    slot: datetime,
    now: datetime,
) -> int:
    """What the weekly step's outcome tells the owner, recorded in one transaction and
    then mailed with whatever else is pending: the queue was empty at the slot (told at
    the slot itself when the warning a day ahead could not go out), the edition was held,
    or the checks after a send. A review, or an edition held because the owner's own
    review copy did not arrive (a mail about it would not arrive either), mails nothing."""
    with database.session() as session:
        if published.action == "queue empty":
            _record_queue_empty(session, settings, key, slot, now)
        elif published.action == "held" and published.edition_id is not None:
            if published.owner_unreachable:
                return 0
            if published.detail == owner_hold.REASON:
                area = f"{settings.newsletter.base_url.rstrip('/')}/beheer"
                _record_held_by_owner(session, key, published.edition_id, area)
            else:
                _record_held(session, key, published.edition_id, published.detail)
        elif published.summary is not None:
            _record_after_send(session, settings, published.summary, key)
        else:
            return 0
    return mail_pending_alerts(database, settings, now)


def periodic_checks(database: Database, settings: Settings, now: datetime) -> int:
    """The periodic look: a feed failing for a day, a queue empty a day before the next
    slot, an edition's weekly report; then every pending alert, also those whose mail
    failed before."""
    with database.session() as session:
        zone = ZoneInfo(settings.schedule.timezone)
        record_failing_feeds(session, settings.posts.feeds, now, _week(settings, now), zone)
        record_weekly_reports(session, settings, now)
        slot = _empty_slot_ahead(session, settings, now)
        if slot is not None:
            _record_queue_empty(session, settings, _week(settings, slot), slot, now)
    return mail_pending_alerts(database, settings, now)


def _record_queue_empty(
    session: Session, settings: Settings, key: str, slot: datetime, now: datetime
) -> None:
    when = "staat gepland op" if slot > now else "was gepland op"
    moment = local_moment(slot, ZoneInfo(settings.schedule.timezone))
    record_alert(
        session,
        cause="queue-empty",
        period=key,
        subject=f"Geen bericht in de wachtrij voor de nieuwsbrief van week {key[-2:]}",
        paragraphs=[
            f"De nieuwsbrief van deze week {when} {moment}, maar er staat geen "
            "onverzonden bericht meer in de wachtrij. Zonder nieuw bericht gaat er "
            "deze week geen nieuwsbrief uit.",
            "Publiceer een nieuw bericht op de blog (de feed wordt vanzelf opgehaald), of "
            "zet een ouder bericht terug in de wachtrij met `newsletter posts import` of "
            "`newsletter posts unskip`.",
        ],
    )


def _empty_slot_ahead(session: Session, settings: Settings, now: datetime) -> datetime | None:
    """The next slot, when it is a day away at most and nothing is queued for it."""
    slot = next_slot(settings.schedule, now)
    if slot is None or slot - now > EMPTY_QUEUE_NOTICE:
        return None
    key = _week(settings, slot)
    if session.scalar(select(Edition.id).where(Edition.week_key == key)) is not None:
        return None
    return None if post_queue.next_unsent(session) is not None else slot


def _record_held(session: Session, key: str, edition_id: int, reason: str) -> None:
    record_alert(
        session,
        cause=f"edition-held:{edition_id}",
        period=key,
        subject=f"Nieuwsbrief van week {key[-2:]} tegengehouden door de controle",
        paragraphs=[
            f"Editie {edition_id} is gemaakt maar niet verstuurd: de controle vóór "
            "het versturen vond een probleem. Hieronder staat het verslag.",
            f"Zie `newsletter editions show {edition_id}`. Annuleer de editie met "
            f"`newsletter editions cancel {edition_id}`, los het probleem op en verstuur "
            "het bericht met `newsletter send`.",
        ],
        report=reason,
        edition_id=edition_id,
    )


def _record_held_by_owner(session: Session, key: str, edition_id: int, area: str) -> None:
    """The owner held this edition before it was made: no check found anything, so the
    mail says it waits for them, not what went wrong."""
    record_alert(
        session,
        cause=f"edition-held:{edition_id}",
        period=key,
        subject=f"Nieuwsbrief van week {key[-2:]} wacht op jou",
        paragraphs=[
            f"Editie {edition_id} is gemaakt maar niet verstuurd: je hield de volgende "
            "nieuwsbrief tegen.",
            f"Geef haar vrij op je beheerpagina ({area}) of met `newsletter editions release "
            f"{edition_id}`; de dienst verstuurt haar dan bij de volgende ronde. Annuleren kan "
            f"met `newsletter editions cancel {edition_id}`.",
        ],
        edition_id=edition_id,
    )


def after_send(database: Database, settings: Settings, summary: SendSummary, now: datetime) -> int:
    """After the daemon's send: the returns threshold and the failures check, recorded in
    one transaction, so that any mailer finds both or neither and mails them as one."""
    with database.session() as session:
        _record_after_send(session, settings, summary, _week(settings, now))
    return mail_pending_alerts(database, settings, now)


def after_manual_send(
    database: Database, settings: Settings, summary: SendSummary, now: datetime
) -> int:
    """After ``newsletter send``: the returns threshold, the refusals on our side and the
    ones held as suspect only (the failures are on screen)."""
    with database.session() as session:
        if summary.bounced:
            check_limits(session, settings.bounces, summary.edition_id)
        alert_sender_rejections(session, summary.edition_id)
        alert_held_at_send(session, summary.edition_id)
    return mail_pending_alerts(database, settings, now)


def _record_after_send(
    session: Session, settings: Settings, summary: SendSummary, this_week: str
) -> None:
    """The returns threshold's alert, then the failures' (recorded in that order: the
    owner's mail lists them so); ``this_week`` is the failures alert's period when the
    edition has no week of its own."""
    failures = _failures(session, summary, settings.newsletter.alert_failed_percent)
    if summary.bounced:
        check_limits(session, settings.bounces, summary.edition_id)
    alert_sender_rejections(session, summary.edition_id)
    alert_held_at_send(session, summary.edition_id)
    if failures is not None:
        key, notice = failures
        record_alert(
            session,
            cause=f"edition-failures:{summary.edition_id}",
            period=key or this_week,
            subject=notice.subject,
            paragraphs=notice.paragraphs,
            edition_id=summary.edition_id,
        )


def _failures(
    session: Session, summary: SendSummary, limit: float
) -> tuple[str | None, Notice] | None:
    """When a finished edition failed for more than ``alert_failed_percent`` of readers:
    the edition's week and the notice.

    Addresses that do not exist are left out: they are hard bounces, and the returns alert
    (which also holds the next edition) tells the owner about those, in the same mail. One
    bad edition so gives the owner one mail listing each thing that went wrong once.
    """
    if summary.status != "sent":
        return None
    edition_id = summary.edition_id
    numbers = counts(session, edition_id)
    unknown = len(refused_for_good(session, edition_id))
    key = session.scalar(select(Edition.week_key).where(Edition.id == edition_id))
    reached = numbers["sent"] + numbers["failed"]
    failed = numbers["failed"] - unknown
    if not reached or failed * 100 <= limit * reached:
        return None
    return key, Notice(
        subject=f"Editie {edition_id} is bij {failed} lezers niet aangekomen",
        paragraphs=[
            f"Editie {edition_id} is klaar: {numbers['sent']} berichten zijn afgeleverd en "
            f"{failed} definitief mislukt (meer dan {limit:g}%)."
            + (f" Daarnaast bestaan {unknown} adressen niet." if unknown else ""),
            "Dat wijst vaak op een probleem bij de mailserver of een blokkade. Bekijk de "
            f"antwoorden van de server met `newsletter deliveries {edition_id} "
            "--status failed`.",
        ],
    )
