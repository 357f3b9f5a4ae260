"""Never lose a domain's readers by mistake: hard bounces past a fifth of an edition's mail
to one domain are held as suspect, whether the relay refuses them during the send or
they come back later; the owner is asked, and ``confirm`` drops them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.db.models import Event, OwnerAlert, Subscriber, utcnow
from newsletter.delivery.engine import send_edition
from newsletter.returns import suspect
from newsletter.returns.parse import Kind, Verdict
from newsletter.returns.report import edition_returns, what_dropped
from newsletter.runtime.alerts import after_manual_send
from newsletter.runtime.owner_mail import mail_pending_alerts
from tests.support.cli import NewsletterCli
from tests.support.db import add_subscriber, add_subscribers, new_edition
from tests.support.returned import (
    bounce_env,
    events_about,
    hand_in,
    owner_mails,
    send_next,
    status_of,
)
from tests.support.settings import OWNER, make_settings, relay
from tests.support.smtp import Faults, SmtpServer

BROKEN = [f"lezer{n}@kapot.example" for n in range(10)]
UNKNOWN = "550 5.1.1 <{}>: Recipient address rejected: User unknown"


def _statuses(database: Database) -> dict[str, str]:
    with database.session() as session:
        rows = session.execute(select(Subscriber.email, Subscriber.status)).all()
    return {email: status for email, status in rows if email in BROKEN}


def test_a_domain_refusing_its_readers_during_the_send_has_them_held(
    database: Database,
) -> None:
    for address in BROKEN:
        add_subscriber(database, address)
    edition_id, others = new_edition(database, 10)
    server = SmtpServer(Faults(rcpt_replies={a: UNKNOWN.format(a) for a in BROKEN})).start()
    try:
        settings = make_settings(
            newsletter={"owner_address": OWNER}, smtp=relay(server.port, timeout=5.0)
        )
        summary = send_edition(database, settings, edition_id)
        after_manual_send(database, settings, summary, utcnow())
        [asked] = [m.message for m in server.handler.received if OWNER in m.recipients]
    finally:
        server.stop()

    # The first four are below the minimum and dropped, as a late report's would be;
    # the fifth of ten refused messages to kapot.example and every one after are held.
    statuses = _statuses(database)
    assert sorted(statuses.values()) == ["active"] * 6 + ["bounced"] * 4
    assert summary.bounced == 4 and summary.failed == 10
    with database.session() as session:
        returns = edition_returns(session, edition_id)
        causes = session.scalars(select(OwnerAlert.cause)).all()
        held = [
            s
            for s in session.scalars(select(Subscriber))
            if statuses.get(s.email or "") == "active"
        ]
        assert all(what_dropped(session, s.id) is None for s in held)
    assert (returns.hard, returns.suspect) == (4, 6)
    assert f"suspect:{edition_id}:kapot.example" in causes
    body = str(asked.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert f"newsletter bounces confirm {edition_id} kapot.example" in " ".join(body.split())

    with database.session() as session:
        assert suspect.confirm(session, settings, edition_id, "kapot.example", actor="cli") == 6
    assert set(_statuses(database).values()) == {"bounced"}
    with database.session() as session:
        assert (
            edition_returns(session, edition_id).hard,
            edition_returns(session, edition_id).suspect,
        ) == (10, 0)
        confirmed = session.scalars(
            select(Event).where(Event.kind == "bounce", Event.actor == "cli")
        ).all()
    assert len(confirmed) == 6 and all(e.detail and e.detail["confirmed"] for e in confirmed)
    assert set(others) - set(BROKEN)  # the other domain's readers were never counted


def test_a_few_refusals_at_a_large_domain_are_dropped_at_once(database: Database) -> None:
    edition_id, readers = new_edition(database, 30)
    # Five of thirty (a sixth, under the fifth), refused last over one connection: the rule
    # judges a refusal by the mail answered so far, so only this order makes it a sixth.
    gone = readers[-5:]
    server = SmtpServer(Faults(rcpt_replies={a: UNKNOWN.format(a) for a in gone})).start()
    try:
        settings = make_settings(smtp=relay(server.port, timeout=5.0, connections=1))
        summary = send_edition(database, settings, edition_id)
    finally:
        server.stop()
    assert summary.bounced == 5
    with database.session() as session:
        assert (
            edition_returns(session, edition_id).hard,
            edition_returns(session, edition_id).suspect,
        ) == (5, 0)


def test_a_domain_refusing_a_fifth_of_an_edition_has_its_hard_bounces_held(
    database: Database, report_settings: Settings, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    readers = add_subscribers(database, 10)
    edition_id = send_next(database, report_settings, "rust-vinden")
    gone = Verdict(Kind.HARD, "userunknown", "550 5.1.1 user unknown", status="5.1.1")
    results = [
        hand_in(database, report_settings, edition_id, [(reader, gone)], reader).result
        for reader in readers[:6]
    ]
    # The fifth hard bounce of ten messages to voorbeeld.nl is 50%: held, as is the sixth.
    assert results == ["hard"] * 4 + ["suspect"] * 2
    assert [status_of(database, r) for r in readers[:6]] == ["bounced"] * 4 + ["active"] * 2
    with database.session() as session:
        causes = session.scalars(select(OwnerAlert.cause)).all()
        assert edition_returns(session, edition_id).suspect == 2
    assert f"suspect:{edition_id}:voorbeeld.nl" in causes
    mail_pending_alerts(database, report_settings, utcnow())
    assert any(
        f"newsletter bounces confirm {edition_id} voorbeeld.nl" in text
        for text in owner_mails(smtp_server)
    )

    cli = NewsletterCli(database.engine.url.render_as_string(hide_password=False), tmp_path)
    env = bounce_env(smtp_server.port)
    answer = cli.ok("bounces", "confirm", str(edition_id), "VOORBEELD.nl", **env)
    assert answer == f"edition {edition_id}: 2 held hard bounces at voorbeeld.nl confirmed\n"
    assert [status_of(database, r) for r in readers[:6]] == ["bounced"] * 6
    assert events_about(database, readers[5])[-1][:2] == ("bounce", "cli")
    error = cli.fails("bounces", "confirm", str(edition_id), "voorbeeld.nl", **env)
    assert "no held hard bounces at voorbeeld.nl" in error
