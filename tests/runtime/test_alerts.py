"""The daemon with a feed, a weekly slot and an injected clock, mailing a real SMTP server.

The daemon's own jobs (``watch_job`` every poll interval, ``weekly_job`` at the slot) are
called with the moment they should believe it is; the feed comes from a loopback HTTP
server, mail goes over SMTP to an in-process aiosmtpd server whose log the tests read.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.db.models import Edition, OwnerAlert
from newsletter.runtime.daemon import Daemon
from newsletter.runtime.status import collect_status
from tests.support.db import add_subscribers
from tests.support.feeds import (
    FEED_PASSWORD,
    FeedServer,
    Item,
    Route,
    post_html,
    with_password,
    wordpress_rss,
)
from tests.support.settings import OWNER, make_settings, relay
from tests.support.settings import local as local_time
from tests.support.smtp import Faults, SmtpServer
from tests.support.system import free_port

READERS = 3


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in November 2026, Amsterdam time (Monday the 9th and 16th are slots)."""
    return local_time(2026, 11, day, hour, minute)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _settings(smtp: SmtpServer, *feeds: str, owner: str = OWNER, **newsletter: str) -> Settings:
    return make_settings(
        newsletter={"owner_address": owner, **newsletter},
        posts={"feeds": feeds, "fetch_timeout_seconds": 2.0},
        smtp=relay(smtp.port),
        schedule={"cron": "mon 07:00", "timezone": "Europe/Amsterdam"},
    )


def _mails_to(smtp: SmtpServer, address: str) -> list[EmailMessage]:
    return [mail.message for mail in smtp.handler.received if address in mail.recipients]


def _body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def _item(number: int, published: datetime) -> Item:
    return Item(
        title=f"Ruimte maken, deel {number}",
        link=f"https://www.gerritvanderheide.com/ruimte-maken-{number}/",
        guid=f"https://www.gerritvanderheide.com/?p={500 + number}",
        published=published,
        html=post_html(f"Vandaag deel {number} over ruimte maken."),
    )


def test_a_post_published_mid_week_is_the_next_edition(
    database: Database, feed_server: FeedServer, smtp_server: SmtpServer
) -> None:
    readers = add_subscribers(database, READERS)
    back_catalogue = [_item(n, local(1, 9) - timedelta(days=300 - n)) for n in (1, 2, 3)]
    feed_server.routes["/feed/"] = Route(wordpress_rss(back_catalogue), etag='"a"')
    clock = Clock(local(4, 10))  # Wednesday: the feed is configured and first polled
    daemon = Daemon(_settings(smtp_server, feed_server.url("/feed/")), database, clock=clock)
    daemon.watch_job()

    new = _item(9, local(7, 16))  # published on Saturday afternoon
    feed_server.routes["/feed/"] = Route(wordpress_rss([new, *back_catalogue]), etag='"b"')
    clock.now = local(8, 8)  # Sunday morning's poll
    daemon.watch_job()
    clock.now = local(9, 7, 0)  # Monday, the slot
    daemon.weekly_job()

    for reader in readers:
        [mail] = _mails_to(smtp_server, reader)
        assert mail["Subject"] == new.title
    assert _mails_to(smtp_server, OWNER) == []  # nothing needed the owner
    with database.session() as session:
        [edition] = session.scalars(select(Edition)).all()
        assert edition.week_key == "2026-W46"


def test_an_empty_queue_is_told_to_the_owner_once_and_makes_no_edition(
    database: Database, feed_server: FeedServer, smtp_server: SmtpServer
) -> None:
    add_subscribers(database, READERS)
    feed_server.routes["/feed/"] = Route(wordpress_rss([]))
    settings = _settings(smtp_server, feed_server.url("/feed/"))
    clock = Clock(local(4, 10))
    daemon = Daemon(settings, database, clock=clock)
    daemon.watch_job()  # Wednesday: more than a day ahead, no warning yet
    assert _mails_to(smtp_server, OWNER) == []

    for hour in (8, 9, 10, 23):  # Sunday: every poll of the day before the slot
        clock.now = local(8, hour)
        daemon.watch_job()
    clock.now = local(9, 7, 0)
    daemon.weekly_job()
    clock.now = local(9, 8, 0)
    daemon.watch_job()

    assert [mail.recipients for mail in smtp_server.handler.received] == [[OWNER]]
    [warning] = _mails_to(smtp_server, OWNER)
    assert warning["Subject"] == "Geen bericht in de wachtrij voor de nieuwsbrief van week 46"
    body = _body(warning)
    assert "09-11-2026 om 07:00" in body and "geen onverzonden bericht" in body
    with database.session() as session:
        assert session.scalars(select(Edition)).all() == []
        assert [(a.cause, a.period) for a in session.scalars(select(OwnerAlert))] == [
            ("queue-empty", "2026-W46")
        ]
    status = collect_status(database, settings, local(9, 9))
    assert status["last_slot"] == {"week": "2026-W46", "edition": None, "queue_was_empty": True}
    assert "week 2026-W46: no edition, the queue was empty at the slot" in status["warnings"]


def test_after_downtime_the_empty_queue_is_told_at_the_slot(
    database: Database, smtp_server: SmtpServer
) -> None:
    """The daemon was down the day before; at the slot it still tells the owner, once."""
    daemon = Daemon(_settings(smtp_server), database, clock=Clock(local(9, 7, 1)))
    daemon.weekly_job()
    daemon.weekly_job()  # a restart within the catch-up window
    [warning] = _mails_to(smtp_server, OWNER)
    assert "was gepland op 09-11-2026 om 07:00" in _body(warning)


def test_a_feed_failing_for_a_day_is_told_once_a_week(
    database: Database, feed_server: FeedServer, smtp_server: SmtpServer
) -> None:
    feed_server.routes["/feed/"] = Route(b"storing", status=500)
    # Queued posts exist, so only the feed can be the cause of a mail.
    feed_server.routes["/ok/"] = Route(wordpress_rss([_item(1, local(1, 9))]))
    settings = _settings(smtp_server, feed_server.url("/ok/"), feed_server.url("/feed/"))
    clock = Clock(local(10, 9))  # Tuesday: first failure
    daemon = Daemon(settings, database, clock=clock)
    daemon.watch_job()
    clock.now = local(11, 8, 59)  # 23 h 59 min later
    daemon.watch_job()
    assert _mails_to(smtp_server, OWNER) == []
    for hour in (9, 10, 11):
        clock.now = local(11, hour)
        daemon.watch_job()
    [mail] = _mails_to(smtp_server, OWNER)
    assert mail["Subject"] == "De feed van de blog is al een dag niet te lezen"
    assert "HTTP 500" in _body(mail) and feed_server.url("/feed/") in _body(mail)
    assert "10-11-2026 om 09:00" in _body(mail)

    clock.now = local(16, 9)  # next week, still failing: one more mail
    daemon.watch_job()
    assert len(_mails_to(smtp_server, OWNER)) == 2
    feed_server.routes["/feed/"] = Route(wordpress_rss([]))
    clock.now = local(16, 10)
    daemon.watch_job()
    status = collect_status(database, settings, clock.now)
    assert all(feed["failing_since"] is None for feed in status["feeds"])


def test_a_feed_password_is_hidden_in_the_log_the_owner_mail_and_the_status(
    database: Database,
    feed_server: FeedServer,
    smtp_server: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    feed_server.routes["/storing/"] = Route(b"storing", status=500)
    feed_server.routes["/ok/"] = Route(wordpress_rss([_item(1, local(1, 9))]))
    good, failing = (with_password(feed_server.url(p)) for p in ("/ok/", "/storing/"))
    unreachable = with_password(f"http://127.0.0.1:{free_port()}/feed/")
    failing_shown, unreachable_shown = (
        url.replace(FEED_PASSWORD, "***") for url in (failing, unreachable)
    )
    settings = _settings(smtp_server, good, failing, unreachable)
    clock = Clock(local(10, 9))
    daemon = Daemon(settings, database, clock=clock)
    caplog.set_level(logging.DEBUG)  # httpx's own request lines too

    daemon.watch_job()
    clock.now = local(11, 9)  # a day of failures: the owner hears of both
    daemon.watch_job()

    assert FEED_PASSWORD not in caplog.text
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert (
        f"feed {failing_shown}: cannot fetch the feed: HTTP 500 Internal Server Error; "
        "trying again at the next poll" in warnings
    )
    mails = _mails_to(smtp_server, OWNER)
    texts = [
        str(part.get_content())
        for mail in mails
        for part in mail.walk()
        if part.get_content_maintype() == "text"
    ]
    assert len(mails) == 2 and not any(FEED_PASSWORD in text for text in texts)
    bodies = [_body(mail) for mail in mails]
    assert any(failing_shown in body and "HTTP 500" in body for body in bodies)
    assert any(unreachable_shown in body for body in bodies)
    status = collect_status(database, settings, clock.now)
    assert FEED_PASSWORD not in json.dumps(status)
    assert [feed["url"] for feed in status["feeds"]][1:] == [failing_shown, unreachable_shown]


def test_an_edition_held_by_the_check_is_told_with_the_report(
    database: Database, feed_server: FeedServer, smtp_server: SmtpServer
) -> None:
    add_subscribers(database, READERS)
    feed_server.routes["/feed/"] = Route(wordpress_rss([_item(1, local(1, 9))]))
    settings = _settings(smtp_server, feed_server.url("/feed/"))
    # A public site without https: the List-Unsubscribe check fails and holds the edition.
    settings = replace(
        settings,
        newsletter=replace(
            settings.newsletter, base_url="http://nieuwsbrief.gerritvanderheide.com"
        ),
    )
    daemon = Daemon(settings, database, clock=Clock(local(9, 7, 0)))
    daemon.weekly_job()
    daemon.weekly_job()
    assert [mail.recipients for mail in smtp_server.handler.received] == [[OWNER]]
    [mail] = _mails_to(smtp_server, OWNER)
    assert mail["Subject"] == "Nieuwsbrief van week 46 tegengehouden door de controle"
    assert "List-Unsubscribe" in _body(mail)


def test_an_edition_with_many_failures_is_told_to_the_owner_in_one_mail(
    database: Database, feed_server: FeedServer
) -> None:
    readers = add_subscribers(database, 10)
    # One of ten refused by policy (10 % is above the default 5 %), two addresses unknown.
    replies = {readers[0]: "550 5.7.1 Message rejected by policy"}
    replies |= {r: "550 5.1.1 no such user" for r in readers[1:3]}
    with SmtpServer(Faults(rcpt_replies=replies)) as server:
        feed_server.routes["/feed/"] = Route(wordpress_rss([_item(1, local(1, 9))]))
        settings = _settings(server, feed_server.url("/feed/"))
        daemon = Daemon(settings, database, clock=Clock(local(9, 7, 0)))
        daemon.weekly_job()
        # Three causes of one edition, the refused message, (issue 12) the hard-bounce
        # rate and (issue 22) the policy refusal as a rejection on our side, in one mail
        # under one heading each.
        [mail] = _mails_to(server, OWNER)
    assert mail["Subject"] == "Nieuwsbrief: 3 meldingen over editie 1"
    body = " ".join(_body(mail).split())
    assert "# Editie 1 is bij 1 lezers niet aangekomen" in body
    assert "# Nieuwsbrief: te veel bounces of klachten bij editie 1" in body
    assert "7 berichten zijn afgeleverd en 1 definitief mislukt" in body
    assert "Daarnaast bestaan 2 adressen niet." in body
    assert "Harde bounces: 2 (20,0%; grens 5%)" in body
    assert (
        "voorbeeld.nl: 1× geweigerd door het beleid van de ontvanger (550 5.7.1 Message rejected by policy)"
        in body
    )
    html = mail.get_body(("html",))
    assert html is not None and str(html.get_content()).count("<h2") == 3
    # The returns alert holds the next week's edition, whatever the daemon's clock says.
    feed_server.routes["/feed/"] = Route(
        wordpress_rss([_item(2, local(12, 9)), _item(1, local(1, 9))])
    )
    Daemon(settings, database, clock=Clock(local(16, 7, 0))).weekly_job()
    with database.session() as session:
        second = session.scalars(select(Edition).where(Edition.week_key == "2026-W47")).one()
        assert second.status == "held" and "hard bounces" in (second.hold_reason or "")


def test_unknown_addresses_alone_are_one_mail_not_two(
    database: Database, feed_server: FeedServer
) -> None:
    """Hard bounces are the returns alert's: the failures alert does not repeat them."""
    readers = add_subscribers(database, 10)
    faults = Faults(rcpt_replies={r: "550 5.1.1 no such user" for r in readers[:2]})
    with SmtpServer(faults) as server:
        feed_server.routes["/feed/"] = Route(wordpress_rss([_item(1, local(1, 9))]))
        settings = _settings(server, feed_server.url("/feed/"))
        Daemon(settings, database, clock=Clock(local(9, 7, 0))).weekly_job()
        subjects = [mail["Subject"] for mail in _mails_to(server, OWNER)]
    assert subjects == ["Nieuwsbrief: te veel bounces of klachten bij editie 1"]


def test_without_an_owner_address_nothing_is_mailed(
    database: Database, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    daemon = Daemon(_settings(smtp_server, owner=""), database, clock=Clock(local(9, 7, 1)))
    daemon.weekly_job()
    assert smtp_server.handler.received == []
    assert "set newsletter.owner_address" in caplog.text
