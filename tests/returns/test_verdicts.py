"""What each kind of verdict does to a reader after a real send through the test relay:
a rejection on our side keeps the reader and tells the owner the fix, an opt-out
unsubscribes as the link does, a report naming several readers keeps a row for each, and
a domain that refuses a fifth of an edition at once has its hard bounces held as suspect.

The verdicts are built here and handed to ``returns.apply``: what the classifier makes of
real messages has tests of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.db.models import BounceReport, Event, OwnerAlert, Subscriber, utcnow
from newsletter.returns.apply import Processed, settle
from newsletter.returns.parse import Kind, Verdict
from newsletter.returns.report import edition_returns
from newsletter.runtime.owner_mail import mail_pending_alerts
from tests.support.cli import NewsletterCli
from tests.support.db import add_subscribers
from tests.support.returned import (
    bounce_env,
    bounce_settings,
    delivery_of,
    events_about,
    send_next,
    status_of,
)
from tests.support.settings import OWNER
from tests.support.smtp import SmtpServer


@pytest.fixture
def settings(database_url: str, smtp_server: SmtpServer) -> Settings:
    return bounce_settings(database_url, smtp_server.port)


def _hand_in(
    database: Database,
    settings: Settings,
    edition_id: int,
    verdicts: list[tuple[str, Verdict]],
    name: str,
) -> Processed:
    """One report carrying ``verdicts``, each tied by its reader's own Message-ID (no
    return path: a report may name several readers only then)."""
    tied = []
    for reader, verdict in verdicts:
        message_id = delivery_of(database, edition_id, reader).message_id
        assert message_id is not None
        tied.append(
            Verdict(
                verdict.kind,
                verdict.reason,
                verdict.diagnostic,
                (reader,),
                (message_id,),
                verdict.status,
                verdict.reply_code,
            )
        )
    return settle(database, settings, tuple(tied), None, name, "test")


def _owner_mails(smtp_server: SmtpServer) -> list[str]:
    with smtp_server.handler.lock:
        # one line each: the mail wraps its paragraphs at 72 characters
        return [
            " ".join(m.text().split())
            for m in smtp_server.handler.received
            if OWNER in m.recipients
        ]


def test_a_rejection_on_our_side_keeps_the_reader_and_names_the_fix(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    add_subscribers(database, 3)
    edition_id = send_next(database, settings, "rust-vinden")
    dmarc = Verdict(Kind.SENDER, "authfailure", "550 5.7.26 unauthenticated (DMARC)", (), (),
                    "5.7.26", 550)  # fmt: skip
    listed = Verdict(Kind.SENDER, "blocked", "554 5.7.1 listed at zen.spamhaus.org", (), (),
                     "5.7.1", 554)  # fmt: skip
    _hand_in(database, settings, edition_id, [("lezer1@voorbeeld.nl", dmarc)], "one")
    _hand_in(database, settings, edition_id, [("lezer2@voorbeeld.nl", listed)], "two")

    for reader in ("lezer1@voorbeeld.nl", "lezer2@voorbeeld.nl"):
        assert status_of(database, reader) == "active"
        assert delivery_of(database, edition_id, reader).soft_bounce is False
    with database.session() as session:
        returns = edition_returns(session, edition_id, top_domains=5)
    assert (returns.sender, returns.soft, returns.hard) == (2, 0, 0)
    assert returns.by_domain[0].to_json() == {
        "domain": "voorbeeld.nl",
        "sent": 3,
        "deferred": 0,
        "failed": 0,
        "hard": 0,
        "soft": 0,
        "sender": 2,
        "complaints": 0,
    }
    # Both rejections arrived before the mailer looked: one mail names both fixes.
    mail_pending_alerts(database, settings, utcnow())
    (mail,) = _owner_mails(smtp_server)
    assert "geweigerd om een reden aan onze kant" in mail
    assert "voorbeeld.nl: 1× authfailure" in mail and "draai newsletter doctor" in mail
    assert "https://check.spamhaus.org/" in mail


def test_an_opt_out_unsubscribes_as_the_link_does(database: Database, settings: Settings) -> None:
    add_subscribers(database, 3)
    edition_id = send_next(database, settings, "rust-vinden")
    optout = Verdict(Kind.UNSUBSCRIBE, "optout", "feedback report (opt-out)")
    _hand_in(database, settings, edition_id, [("lezer1@voorbeeld.nl", optout)], "optout")

    assert status_of(database, "lezer1@voorbeeld.nl") == "unsubscribed"
    assert events_about(database, "lezer1@voorbeeld.nl")[-1][:2] == ("unsubscribe", "test")
    with database.session() as session:
        source = session.scalar(
            select(Subscriber.unsubscribe_source).where(Subscriber.email == "lezer1@voorbeeld.nl")
        )
    assert source == "test"


def test_a_report_naming_two_readers_keeps_a_row_for_each_and_twice_changes_nothing(
    database: Database, settings: Settings
) -> None:
    add_subscribers(database, 3)
    edition_id = send_next(database, settings, "rust-vinden")
    gone = Verdict(Kind.HARD, "userunknown", "550 5.1.1 user unknown", status="5.1.1")
    full = Verdict(Kind.SOFT, "mailboxfull", "552 5.2.2 mailbox full", status="5.2.2")
    verdicts = [("lezer1@voorbeeld.nl", gone), ("lezer2@voorbeeld.nl", full)]

    first = _hand_in(database, settings, edition_id, verdicts, "both")
    again = _hand_in(database, settings, edition_id, verdicts, "both")

    assert [(v.result, v.email, v.duplicate) for v in first.verdicts] == [
        ("hard", "lezer1@voorbeeld.nl", False),
        ("soft", "lezer2@voorbeeld.nl", False),
    ]
    assert [(v.result, v.duplicate) for v in again.verdicts] == [("hard", True), ("soft", True)]
    assert status_of(database, "lezer1@voorbeeld.nl") == "bounced"
    assert delivery_of(database, edition_id, "lezer2@voorbeeld.nl").soft_bounce is True
    with database.session() as session:
        rows = session.execute(
            select(BounceReport.part, BounceReport.reason, BounceReport.domain).order_by(
                BounceReport.part
            )
        ).all()
        events = session.scalar(
            select(func.count()).select_from(Event).where(Event.actor == "test")
        )
    assert [tuple(row) for row in rows] == [
        (0, "userunknown", "voorbeeld.nl"),
        (1, "mailboxfull", "voorbeeld.nl"),
    ]
    assert events == 2


def test_a_domain_refusing_a_fifth_of_an_edition_has_its_hard_bounces_held(
    database: Database, settings: Settings, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    readers = add_subscribers(database, 10)
    edition_id = send_next(database, settings, "rust-vinden")
    gone = Verdict(Kind.HARD, "userunknown", "550 5.1.1 user unknown", status="5.1.1")
    results = [
        _hand_in(database, settings, edition_id, [(reader, gone)], reader).result
        for reader in readers[:6]
    ]
    # The fifth hard bounce of ten messages to voorbeeld.nl is 50%: held, as is the sixth.
    assert results == ["hard"] * 4 + ["suspect"] * 2
    assert [status_of(database, r) for r in readers[:6]] == ["bounced"] * 4 + ["active"] * 2
    with database.session() as session:
        causes = session.scalars(select(OwnerAlert.cause)).all()
        assert edition_returns(session, edition_id).suspect == 2
    assert f"suspect:{edition_id}:voorbeeld.nl" in causes
    mail_pending_alerts(database, settings, utcnow())
    assert any(
        f"newsletter bounces confirm {edition_id} voorbeeld.nl" in text
        for text in _owner_mails(smtp_server)
    )

    cli = NewsletterCli(database.engine.url.render_as_string(hide_password=False), tmp_path)
    env = bounce_env(smtp_server.port)
    answer = cli.ok("bounces", "confirm", str(edition_id), "VOORBEELD.nl", **env)
    assert answer == f"edition {edition_id}: 2 held hard bounces at voorbeeld.nl confirmed\n"
    assert [status_of(database, r) for r in readers[:6]] == ["bounced"] * 6
    assert events_about(database, readers[5])[-1][:2] == ("bounce", "cli")
    error = cli.fails("bounces", "confirm", str(edition_id), "voorbeeld.nl", **env)
    assert "no held hard bounces at voorbeeld.nl" in error
