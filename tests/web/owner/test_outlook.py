"""What comes next and the health of the unattended parts, as the overview reads them."""

from __future__ import annotations

from newsletter.db.alerts import ONCE, claim, finish, record_alert
from newsletter.db.database import Database
from newsletter.db.models import AlertStatus, Feed, SubscriberStatus
from newsletter.setup import doctor
from newsletter.setup.doctor import Result
from newsletter.web.owner.outlook import DROPPED_SHOWN, QUEUE_LENGTH, outlook, recently_dropped
from tests.support.db import add_edition
from tests.support.history import History
from tests.support.posts import add_post, make_post
from tests.support.settings import local, make_settings, utc

NOW = utc(2026, 12, 2, 12, 0)  # a Wednesday
FEEDS = ("https://gerrit:geheim@gerritvanderheide.com/feed/", "https://elders.example/feed")


def test_the_next_slot_its_post_and_ten_of_the_queue(database: Database) -> None:
    for n in range(QUEUE_LENGTH + 2):
        add_post(database, make_post(f"stuk-{n:02d}", f"Stuk {n}"))
    settings = make_settings(schedule={"cron": "mon 07:00"})
    with database.session() as session:
        found = outlook(session, settings, NOW)

    assert found.next_slot == local(2026, 12, 7, 7, 0)
    assert len(found.queue) == QUEUE_LENGTH
    assert found.next_post is not None and found.next_post.slug == "stuk-00"
    assert found.waiting is None


def test_the_newest_held_or_draft_edition_is_the_one_waiting(database: Database) -> None:
    add_edition(database, make_post("oud", "Oud"), "sent")
    waiting = add_edition(database, make_post("nieuw", "Nieuw"), "held")
    with database.session() as session:
        found = outlook(session, make_settings(), NOW)
    assert found.waiting is not None
    assert (found.waiting.id, found.waiting.status) == (waiting, "held")


def test_feeds_without_their_passwords_and_only_pending_alerts(database: Database) -> None:
    with database.session() as session:
        session.add(
            Feed(url=FEEDS[0], added_at=NOW, last_polled_at=NOW, last_error="401 for " + FEEDS[0])
        )
        for cause in ("een", "twee"):
            record_alert(session, cause=cause, period=ONCE, subject=cause, paragraphs=[])
        session.flush()
        claim(session, [1], NOW)
    with database.session() as session:
        finish(session, [1], NOW, AlertStatus.SENT)
        found = outlook(session, make_settings(posts={"feeds": FEEDS}), NOW)

    assert [feed.url for feed in found.feeds] == [
        "https://gerrit:***@gerritvanderheide.com/feed/",
        FEEDS[1],
    ]
    assert "geheim" not in str(found.feeds[0].last_error)
    assert found.feeds[1].last_polled_at is None
    assert [alert.subject for alert in found.alerts] == ["twee"]


def test_the_readers_dropped_last_come_with_why(database: Database, history: History) -> None:
    with database.session() as session:
        dropped = recently_dropped(session)

    bounced = sorted(
        (r for r in history.readers if r.left_as == SubscriberStatus.BOUNCED),
        key=lambda r: r.left_at or r.joined_at,
        reverse=True,
    )
    assert [reader.email for reader in dropped] == [r.email for r in bounced][:DROPPED_SHOWN]
    assert dropped, "the history drops some readers"
    assert all(reader.drop.reason == "userunknown" for reader in dropped)
    assert all(reader.drop.diagnostic == "550 5.1.1 user unknown" for reader in dropped)


def test_the_last_full_doctor_run_is_the_one_shown(database: Database) -> None:
    with database.session() as session:
        assert outlook(session, make_settings(), NOW).doctor is None
    doctor.record(database, [Result("config", "ok", ""), Result("spf", "fail", "no record")])
    doctor.record(
        database,
        [Result("config", "ok", ""), Result("dmarc", "warn", "p=none"), Result("dkim", "ok", "")],
    )
    with database.session() as session:
        shown = outlook(session, make_settings(), NOW).doctor
    assert shown is not None and (shown.failed, shown.warned) == ((), ("dmarc",))
