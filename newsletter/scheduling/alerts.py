"""Telling the owner when something needs them, once per cause per week.

Four causes, each a Dutch mail to ``newsletter.owner_address`` through the single-message
sender: the queue will be empty at the next slot (a day ahead, or at the slot itself when
that warning could not go out, e.g. after downtime), an edition was held by the pre-send
check, a feed has failed for a day, an edition ended with too many failed deliveries.

"Once" is decided by the database (``owner_alerts``: unique cause and week), so restarts
and several daemons never mail twice. The row is claimed before the mail goes out and
given back when it could not be delivered, so the next run tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from newsletter.config import Settings, hide_password
from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.db.models import Edition, OwnerAlert
from newsletter.delivery.attempt import Outcome
from newsletter.delivery.editions import counts
from newsletter.delivery.engine import SendSummary
from newsletter.delivery.single import SingleMessageSender
from newsletter.errors import NewsletterError
from newsletter.feeds import state
from newsletter.mail.owner import build_owner_message
from newsletter.returns.report import refused_for_good
from newsletter.scheduling.slots import next_slot, week_key

log = logging.getLogger(__name__)

FEED_FAILING_HOURS = 24
EMPTY_QUEUE_NOTICE = timedelta(days=1)


def notify_owner(
    database: Database,
    settings: Settings,
    *,
    cause: str,
    period: str,
    subject: str,
    paragraphs: Sequence[str],
    now: datetime,
    report: str | None = None,
) -> bool:
    """Mail the owner about ``cause`` unless that was done this ``period``; True if sent."""
    owner = settings.newsletter.owner_address
    if not owner:
        log.warning("%s (set newsletter.owner_address to be told by mail)", subject)
        return False
    try:
        with database.session() as session:
            taken = select(OwnerAlert.id).where(
                OwnerAlert.cause == cause, OwnerAlert.period == period
            )
            if session.scalar(taken) is not None:
                return False
            session.add(OwnerAlert(cause=cause, period=period, subject=subject, sent_at=now))
    except IntegrityError:  # another daemon claimed it a moment ago
        return False
    problem: str | None
    try:
        message = build_owner_message(
            settings, subject=subject, paragraphs=paragraphs, report=report, now=now
        )
        attempt = SingleMessageSender(settings).send_blocking(message, owner)
        problem = None if attempt.outcome == Outcome.SENT else attempt.reply
    except NewsletterError as exc:
        problem = str(exc)
    if problem is not None:
        with database.session() as session:
            session.execute(
                delete(OwnerAlert).where(OwnerAlert.cause == cause, OwnerAlert.period == period)
            )
        log.error("could not tell the owner (%s): %s; trying again later", subject, problem)
        return False
    log.info("told the owner: %s", subject)
    return True


def _week(settings: Settings, moment: datetime) -> str:
    return week_key(moment, ZoneInfo(settings.schedule.timezone))


def _local(settings: Settings, moment: datetime) -> str:
    local = moment.astimezone(ZoneInfo(settings.schedule.timezone))
    return local.strftime("%d-%m-%Y om %H:%M")


def queue_empty(
    database: Database, settings: Settings, key: str, slot: datetime, now: datetime
) -> bool:
    """The slot of week ``key`` finds (or will find) no post to send."""
    when = "staat gepland op" if slot > now else "was gepland op"
    return notify_owner(
        database,
        settings,
        cause="queue-empty",
        period=key,
        subject=f"Geen bericht in de wachtrij voor de nieuwsbrief van week {key[-2:]}",
        paragraphs=[
            f"De nieuwsbrief van deze week {when} {_local(settings, slot)}, maar er staat "
            "geen onverzonden bericht meer in de wachtrij. Zonder nieuw bericht gaat er "
            "deze week geen nieuwsbrief uit.",
            "Publiceer een nieuw bericht op de blog (de feed wordt vanzelf opgehaald), of "
            "zet een ouder bericht terug in de wachtrij met `newsletter posts import` of "
            "`newsletter posts unskip`.",
        ],
        now=now,
    )


def upcoming_slot_check(database: Database, settings: Settings, now: datetime) -> bool:
    """A day before the next slot: warn when nothing is queued for it."""
    slot = next_slot(settings.schedule, now)
    if slot is None or slot - now > EMPTY_QUEUE_NOTICE:
        return False
    key = _week(settings, slot)
    with database.session() as session:
        if session.scalar(select(Edition.id).where(Edition.week_key == key)) is not None:
            return False
        if post_queue.next_unsent(session) is not None:
            return False
    return queue_empty(database, settings, key, slot, now)


def edition_held(
    database: Database,
    settings: Settings,
    key: str,
    edition_id: int,
    reason: str,
    now: datetime,
) -> bool:
    return notify_owner(
        database,
        settings,
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
        now=now,
    )


def failing_feeds(database: Database, settings: Settings, now: datetime) -> int:
    """Tell the owner about each feed that has failed for a day; how many mails went out."""
    with database.session() as session:
        # The error is hidden again too: it may have been recorded before passwords were.
        failing = [
            (feed.url, feed.failing_since, hide_password(feed.last_error or ""))
            for feed in state.failing_for(session, settings.posts.feeds, now, FEED_FAILING_HOURS)
        ]
    sent = 0
    for url, since, error in failing:
        assert since is not None
        sent += notify_owner(
            database,
            settings,
            cause=f"feed-failing:{url}",
            period=_week(settings, now),
            subject="De feed van de blog is al een dag niet te lezen",
            paragraphs=[
                f"Sinds {_local(settings, since)} lukt het niet om {hide_password(url)} op te "
                "halen. Nieuwe berichten van de blog komen zo niet in de wachtrij; wat er al "
                "in staat, gaat gewoon uit.",
                "Er wordt elke keer opnieuw geprobeerd. De laatste foutmelding:",
            ],
            report=error,
            now=now,
        )
    return sent


def edition_failures(
    database: Database, settings: Settings, summary: SendSummary, now: datetime
) -> bool:
    """When a finished edition failed for more than ``alert_failed_percent`` of readers.

    Addresses that do not exist are left out: they are hard bounces, and the returns alert
    (one mail of its own, which also holds the next edition) tells the owner about those.
    One bad edition so gives the owner one mail for each thing that went wrong, not two
    for the same failures.
    """
    if summary.status != "sent":
        return False
    with database.session() as session:
        numbers = counts(session, summary.edition_id)
        unknown = len(refused_for_good(session, summary.edition_id))
        key = session.scalar(select(Edition.week_key).where(Edition.id == summary.edition_id))
    reached = numbers["sent"] + numbers["failed"]
    failed = numbers["failed"] - unknown
    if not reached or failed * 100 <= settings.newsletter.alert_failed_percent * reached:
        return False
    return notify_owner(
        database,
        settings,
        cause=f"edition-failures:{summary.edition_id}",
        period=key or _week(settings, now),
        subject=f"Editie {summary.edition_id} is bij {failed} lezers niet aangekomen",
        paragraphs=[
            f"Editie {summary.edition_id} is klaar: {numbers['sent']} berichten zijn "
            f"afgeleverd en {failed} definitief mislukt (meer dan "
            f"{settings.newsletter.alert_failed_percent:g}%)."
            + (
                f" Daarnaast bestaan {unknown} adressen niet; daarover gaat een aparte mail."
                if unknown
                else ""
            ),
            "Dat wijst vaak op een probleem bij de mailserver of een blokkade. Bekijk de "
            f"antwoorden van de server met `newsletter deliveries {summary.edition_id} "
            "--status failed`.",
        ],
        now=now,
    )
