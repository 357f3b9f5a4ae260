"""End to end: an edition to 1,000 subscribers through a real SMTP server, on both databases."""

from __future__ import annotations

from sqlalchemy import select

from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.db.models import Delivery, Subscriber, SubscriberStatus
from newsletter.db.subscribers import unsubscribe
from newsletter.delivery import editions
from newsletter.delivery.engine import send_edition
from newsletter.mail.tokens import read_token
from tests.support.db import add_subscribers
from tests.support.posts import add_post
from tests.support.settings import SECRET
from tests.support.smtp import SmtpServer


def _new_edition(database: Database) -> int:
    slug = add_post(database)
    with database.session() as session:
        return editions.create_edition(session, post_queue.get(session, slug), "Rust vinden")


def test_every_active_subscriber_gets_exactly_one_message(
    database, smtp_server: SmtpServer, settings
):
    active = add_subscribers(database, 1000)
    gone = add_subscribers(database, 5, status=SubscriberStatus.UNSUBSCRIBED, start=1000)
    bounced = add_subscribers(database, 5, status=SubscriberStatus.BOUNCED, start=1005)
    edition_id = _new_edition(database)
    late_leaver = active[7]
    with database.session() as session:
        subscriber = session.scalars(
            select(Subscriber).where(Subscriber.email == late_leaver)
        ).one()
        unsubscribe(session, subscriber, "web")
        ids = dict(session.execute(select(Subscriber.email, Subscriber.id)).all())

    summary = send_edition(database, settings, edition_id)

    received = smtp_server.handler.per_address()
    assert set(received) == set(active) - {late_leaver}
    assert set(received.values()) == {1}
    assert not set(received) & set(gone + bounced)
    assert (summary.sent, summary.skipped, summary.deferred, summary.failed) == (999, 1, 0, 0)
    assert summary.status == "sent"
    for address, message in smtp_server.handler.parsed().items():
        header = message["List-Unsubscribe"]
        token = header.split("/unsubscribe/", 1)[1].split(">", 1)[0]
        assert read_token(SECRET, "unsubscribe", token) == ids[address]
    with database.session() as session:
        statuses = set(
            session.scalars(select(Delivery.status).where(Delivery.edition_id == edition_id))
        )
        info = editions.describe_edition(session, edition_id)
    assert statuses == {"sent", "skipped"}
    assert info.status == "sent" and info.finished_at is not None
