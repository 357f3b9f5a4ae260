"""Rejections on our side: counted per receiving domain and told to the owner with the fix,
whether they come back later as a report or the relay refuses during the send."""

from __future__ import annotations

from sqlalchemy import select

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.db.models import OwnerAlert, Subscriber, utcnow
from newsletter.delivery.engine import send_edition
from newsletter.returns.parse import Kind, Verdict
from newsletter.returns.report import edition_returns
from newsletter.returns.senders import edition_rejections
from newsletter.runtime.alerts import after_manual_send
from newsletter.runtime.owner_mail import mail_pending_alerts
from tests.support.db import add_subscriber, add_subscribers, new_edition
from tests.support.returned import (
    delivery_of,
    hand_in,
    owner_mails,
    send_next,
    status_of,
)
from tests.support.settings import OWNER, make_settings, relay
from tests.support.smtp import Faults, SmtpServer

DMARC = "550 5.7.26 <{}>: Unauthenticated email is not accepted due to domain's DMARC policy"
STRICT = [f"lezer{n}@strikt.example" for n in range(4)]


def _send_refused_by_one_domain(database: Database) -> tuple[int, SmtpServer]:
    for address in STRICT:
        add_subscriber(database, address)
    edition_id, _ = new_edition(database, 6)
    faults = Faults(rcpt_replies={address: DMARC.format(address) for address in STRICT})
    server = SmtpServer(faults).start()
    settings = make_settings(
        newsletter={"owner_address": OWNER}, smtp=relay(server.port, timeout=5.0)
    )
    summary = send_edition(database, settings, edition_id)
    after_manual_send(database, settings, summary, utcnow())
    return edition_id, server


def test_a_refusal_on_our_side_during_the_send_is_counted_and_told_with_the_fix(
    database: Database,
) -> None:
    edition_id, server = _send_refused_by_one_domain(database)
    try:
        [alert] = [m.message for m in server.handler.received if OWNER in m.recipients]
    finally:
        server.stop()
    with database.session() as session:
        returns = edition_returns(session, edition_id, top_domains=10)
        [rejection] = edition_rejections(session, edition_id)
        statuses = set(session.scalars(select(Subscriber.status)))
        [recorded] = session.scalars(select(OwnerAlert)).all()
    assert (returns.sender, returns.hard, returns.soft) == (4, 0, 0)
    by_domain = {domain.domain: domain for domain in returns.by_domain}
    assert (by_domain["strikt.example"].failed, by_domain["strikt.example"].sender) == (4, 4)
    assert by_domain["voorbeeld.nl"].sender == 0
    assert statuses == {"active"}  # nobody dropped, nobody counted against
    assert (rejection.domain, rejection.reason, rejection.count) == (
        "strikt.example",
        "authfailure",
        4,
    )
    assert rejection.reply.startswith("550 5.7.26") and "@" not in rejection.reply
    assert recorded.cause == "sender_rejections"
    body = " ".join(str(alert.get_body(("plain",)).get_content()).split())  # type: ignore[union-attr]
    assert "strikt.example: 4× SPF, DKIM of DMARC klopt niet (550 5.7.26" in body
    assert "newsletter doctor" in body
    assert "lezer0@strikt.example" not in body


def test_a_send_without_refusals_on_our_side_tells_the_owner_nothing(database: Database) -> None:
    edition_id, _ = new_edition(database, 3)
    server = SmtpServer(Faults(rcpt_replies={"lezer1@voorbeeld.nl": "550 5.2.2 Mailbox full"}))
    server.start()
    try:
        settings = make_settings(
            newsletter={"owner_address": OWNER}, smtp=relay(server.port, timeout=5.0)
        )
        after_manual_send(
            database, settings, send_edition(database, settings, edition_id), utcnow()
        )
        assert not [m for m in server.handler.received if OWNER in m.recipients]
    finally:
        server.stop()
    with database.session() as session:
        assert edition_rejections(session, edition_id) == []
        assert edition_returns(session, edition_id).sender == 0


def test_a_rejection_on_our_side_keeps_the_reader_and_names_the_fix(
    database: Database, report_settings: Settings, smtp_server: SmtpServer
) -> None:
    add_subscribers(database, 3)
    edition_id = send_next(database, report_settings, "rust-vinden")
    dmarc = Verdict(Kind.SENDER, "authfailure", "550 5.7.26 unauthenticated (DMARC)", (), (),
                    "5.7.26", 550)  # fmt: skip
    listed = Verdict(Kind.SENDER, "blocked", "554 5.7.1 listed at zen.spamhaus.org", (), (),
                     "5.7.1", 554)  # fmt: skip
    hand_in(database, report_settings, edition_id, [("lezer1@voorbeeld.nl", dmarc)], "one")
    hand_in(database, report_settings, edition_id, [("lezer2@voorbeeld.nl", listed)], "two")

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
    mail_pending_alerts(database, report_settings, utcnow())
    (mail,) = owner_mails(smtp_server)
    assert "geweigerd om een reden aan onze kant" in mail
    assert (
        "voorbeeld.nl: 1× SPF, DKIM of DMARC klopt niet" in mail
        and "draai newsletter doctor" in mail
    )
    assert "https://check.spamhaus.org/" in mail
