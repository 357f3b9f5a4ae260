"""The one owner-mail sender against a real SMTP server: alerts recorded in the database,
claimed, mailed, marked sent, or given back when the relay does not take the mail."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import select

from newsletter.config import Settings
from newsletter.db.alerts import RETRY_AFTER, record_alert
from newsletter.db.database import Database, open_database
from newsletter.db.models import AlertStatus, OwnerAlert
from newsletter.runtime.owner_mail import mail_pending_alerts
from tests.support.settings import OWNER, make_settings, relay
from tests.support.smtp import Faults, SmtpServer
from tests.support.system import free_port

MONDAY = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)


def _settings(port: int) -> Settings:
    return make_settings(newsletter={"owner_address": OWNER}, smtp=relay(port))


def _record(database: Database, cause: str, period: str = "2026-W46") -> bool:
    with database.session() as session:
        return record_alert(
            session,
            cause=cause,
            period=period,
            subject=f"Melding {cause}",
            paragraphs=[f"Er is iets met {cause}."],
        )


def _owner_mails(server: SmtpServer) -> list[EmailMessage]:
    with server.handler.lock:
        return [mail.message for mail in server.handler.received if OWNER in mail.recipients]


def _statuses(database: Database) -> list[tuple[str, str]]:
    with database.session() as session:
        rows = session.execute(select(OwnerAlert.cause, OwnerAlert.status).order_by(OwnerAlert.id))
        return [(cause, status) for cause, status in rows]


def test_a_mail_the_relay_refuses_is_given_back_and_sent_on_a_later_run(
    database: Database, smtp_server: SmtpServer, faults: Faults
) -> None:
    faults.rcpt_replies[OWNER] = "550 5.7.1 Relaying denied"
    settings = _settings(smtp_server.port)
    _record(database, "queue-empty")
    assert mail_pending_alerts(database, settings, MONDAY) == 0
    assert _statuses(database) == [("queue-empty", AlertStatus.PENDING)]

    del faults.rcpt_replies[OWNER]
    # Not sooner than RETRY_AFTER: a relay that said no is not asked every minute.
    assert mail_pending_alerts(database, settings, MONDAY + RETRY_AFTER / 2) == 0
    assert mail_pending_alerts(database, settings, MONDAY + RETRY_AFTER) == 1
    [mail] = _owner_mails(smtp_server)
    assert mail["Subject"] == "Melding queue-empty"
    assert _statuses(database) == [("queue-empty", AlertStatus.SENT)]
    assert mail_pending_alerts(database, settings, MONDAY + 3 * RETRY_AFTER) == 0
    assert len(_owner_mails(smtp_server)) == 1


def test_a_relay_that_is_down_leaves_the_alert_for_the_next_run(
    database: Database, smtp_server: SmtpServer
) -> None:
    _record(database, "feed-failing:https://blog.example/feed/")
    assert mail_pending_alerts(database, _settings(free_port()), MONDAY) == 0
    assert _statuses(database)[0][1] == AlertStatus.PENDING
    later = MONDAY + timedelta(hours=1)
    assert mail_pending_alerts(database, _settings(smtp_server.port), later) == 1
    assert len(_owner_mails(smtp_server)) == 1


def test_the_same_cause_twice_in_one_week_is_one_mail(
    database: Database, smtp_server: SmtpServer
) -> None:
    settings = _settings(smtp_server.port)
    assert _record(database, "queue-empty")
    assert not _record(database, "queue-empty")  # recorded again before the mail
    mail_pending_alerts(database, settings, MONDAY)
    assert not _record(database, "queue-empty")
    mail_pending_alerts(database, settings, MONDAY + timedelta(days=3))
    assert len(_owner_mails(smtp_server)) == 1
    # The next week is another period: the owner hears again.
    assert _record(database, "queue-empty", "2026-W47")
    mail_pending_alerts(database, settings, MONDAY + timedelta(days=7))
    assert len(_owner_mails(smtp_server)) == 2


def test_two_mailers_at_once_mail_each_alert_once(
    database_url: str, database: Database, smtp_server: SmtpServer
) -> None:
    """Two daemons on one database run their mailers at the same moment."""
    causes = [f"feed-failing:https://blog{n}.example/feed/" for n in range(6)]
    for cause in causes:
        _record(database, cause)
    settings = _settings(smtp_server.port)
    other = open_database(database_url)
    start = threading.Barrier(2)
    sent: list[int] = []

    def mailer(db: Database) -> None:
        start.wait()
        sent.append(mail_pending_alerts(db, settings, MONDAY))

    try:
        threads = [threading.Thread(target=mailer, args=(db,)) for db in (database, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        other.dispose()
    subjects = sorted(str(mail["Subject"]) for mail in _owner_mails(smtp_server))
    assert subjects == sorted(f"Melding {cause}" for cause in causes)
    assert sum(sent) == len(causes)
    assert {status for _, status in _statuses(database)} == {AlertStatus.SENT}


def test_without_an_owner_address_an_alert_is_logged_once(
    database: Database, smtp_server: SmtpServer
) -> None:
    settings = make_settings(newsletter={"owner_address": ""}, smtp=relay(smtp_server.port))
    _record(database, "queue-empty")
    assert mail_pending_alerts(database, settings, MONDAY) == 0
    assert mail_pending_alerts(database, settings, MONDAY + timedelta(hours=1)) == 0
    assert _statuses(database) == [("queue-empty", AlertStatus.LOGGED)]
    assert smtp_server.handler.received == []
