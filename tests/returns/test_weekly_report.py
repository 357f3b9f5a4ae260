"""The weekly report: a day after an edition went out, its figures reach the owner once,
by the one owner-notice path, and not at all when switched off."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.db.models import OwnerAlert
from newsletter.returns.weekly_report import record_weekly_reports
from newsletter.runtime.alerts import periodic_checks
from tests.support.history import History
from tests.support.settings import OWNER, make_settings, relay
from tests.support.smtp import SmtpServer


def report_settings(smtp_port: int, **owner: bool) -> Settings:
    return make_settings(
        newsletter={"owner_address": OWNER},
        smtp=relay(smtp_port),
        owner=owner,
    )


def test_a_day_after_an_edition_its_figures_reach_the_owner_once(
    database: Database, history: History, smtp_server: SmtpServer
) -> None:
    settings = report_settings(smtp_server.port)
    # The last edition finished an hour ago: too early. The one before, a week ago: due.
    # Older ones are past the window.
    due = history.edition_ids[-2]
    expected = history.expected[due]

    assert periodic_checks(database, settings, history.base) == 1
    assert periodic_checks(database, settings, history.base + timedelta(minutes=5)) == 0

    [mail] = smtp_server.handler.received
    assert mail.recipients == [OWNER]
    assert mail.message["Subject"] == f"Nieuwsbrief: de cijfers van editie {due}"
    text = mail.text()
    for label, key in (
        ("Verstuurd", "sent"),
        ("Uitgesteld", "deferred"),
        ("Mislukt", "failed"),
        ("Zachte bounces", "soft"),
        ("Afmeldingen", "unsubscribes"),
    ):
        assert f"{label:<22}{expected[key]}\n" in text.replace("\r\n", "\n"), label
    assert f"Harde bounces         {expected['hard']} (" in text
    assert f"naar {expected['recipients']} lezers" in text
    assert f"/beheer/editie/{due}" in text


def test_each_finished_edition_gets_its_report_when_its_day_has_passed(
    database: Database, history: History
) -> None:
    settings = make_settings()
    with database.session() as session:
        assert record_weekly_reports(session, settings, history.base) == 1
        assert record_weekly_reports(session, settings, history.base + timedelta(days=1)) == 1
        causes = session.scalars(select(OwnerAlert.cause).order_by(OwnerAlert.id)).all()
    assert causes == [f"weekly-report:{history.edition_ids[i]}" for i in (-2, -1)]


def test_no_report_when_it_is_switched_off(database: Database, history: History) -> None:
    settings = make_settings(owner={"weekly_report": False})
    with database.session() as session:
        assert record_weekly_reports(session, settings, history.base + timedelta(days=1)) == 0
        assert session.scalars(select(OwnerAlert)).all() == []
