"""Owner alerts in the database: recorded once per cause and period, the moments they
quote in local time, and the upgrade of a database whose alerts were written by the
versions that mailed before recording."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from newsletter.db.alerts import claim, local_moment, record_alert, rewrite_pending
from newsletter.db.database import Database
from newsletter.db.models import AlertStatus, OwnerAlert
from newsletter.returns.limits import hold_reason
from tests.support.db import upgraded_from
from tests.support.settings import AMSTERDAM

SENT_AT = datetime(2026, 11, 2, 7, 5, tzinfo=UTC)


def test_recording_a_cause_twice_in_one_period_keeps_the_first(database: Database) -> None:
    with database.session() as session:
        for subject in ("Een", "Twee"):
            recorded = record_alert(
                session,
                cause="queue-empty",
                period="2026-W46",
                subject=subject,
                paragraphs=[subject.lower()],
            )
            assert recorded == (subject == "Een")
    with database.session() as session:
        [alert] = session.scalars(select(OwnerAlert)).all()
    assert (alert.subject, alert.status, alert.details) == (
        "Een",
        AlertStatus.PENDING,
        {"paragraphs": ["een"], "report": None},
    )


def test_a_pending_alert_is_rewritten_and_a_claimed_one_left_as_it_went(
    database: Database,
) -> None:
    def rewrite(text: str) -> bool:
        with database.session() as session:
            return rewrite_pending(
                session, cause="sender_rejections", period="edition-1", subject=text,
                paragraphs=[text],
            )  # fmt: skip

    assert rewrite("een") and rewrite("twee")
    with database.session() as session:
        assert claim(session, [1], SENT_AT) == [1]
    assert not rewrite("drie")
    with database.session() as session:
        [alert] = session.scalars(select(OwnerAlert)).all()
    assert (alert.subject, alert.details["paragraphs"]) == ("twee", ["twee"])


def test_an_upgrade_keeps_sent_alerts_and_the_hold_of_an_earlier_returns_alert(
    database_url: str,
) -> None:
    database = upgraded_from(database_url, "0004_bounces", _BEFORE, at=SENT_AT)
    try:
        with database.session() as session:
            alerts = session.scalars(select(OwnerAlert).order_by(OwnerAlert.id)).all()
            assert [(a.cause, a.period, a.status) for a in alerts] == [
                ("queue-empty", "2026-W45", AlertStatus.SENT),
                ("returns:1", "once", AlertStatus.SENT),
            ]
            assert all(a.sent_at == a.recorded_at == SENT_AT for a in alerts)
            reason = hold_reason(session, 2)
        assert reason is not None and "1 hard bounces and 3 complaints of 40" in reason
    finally:
        database.dispose()


_BEFORE = [
    "INSERT INTO owner_alerts (cause, period, subject, sent_at) "
    "VALUES ('queue-empty', '2026-W45', 'Geen bericht', :at)",
    "INSERT INTO posts (id, slug, title, source, content_hash, document, skipped, "
    "imported_at, updated_at) VALUES (1, 'rust', 'Rust', 'test', 'x', '{}', false, :at, :at)",
    "INSERT INTO editions (id, post_id, status, subject, recipients, created_at) "
    "VALUES (1, 1, 'sent', 'Rust', 40, :at)",
    "INSERT INTO events (occurred_at, kind, actor, edition_id, detail) VALUES (:at, "
    "'returns_alert', 'bounces', 1, '{\"recipients\": 40, \"hard\": 1, \"complaints\": 3}')",
]


def test_a_moment_is_written_in_local_time() -> None:
    assert local_moment(datetime(2026, 11, 9, 6, 0, tzinfo=UTC), AMSTERDAM) == "09-11-2026 om 07:00"
    assert (
        local_moment(datetime(2026, 7, 1, 22, 30, tzinfo=UTC), AMSTERDAM) == "02-07-2026 om 00:30"
    )
