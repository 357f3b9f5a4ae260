"""The send loop's own rules: a stop request gives work back, one bad address fails alone."""

from __future__ import annotations

import threading

from sqlalchemy import select

from newsletter.db import post_queue
from newsletter.db.models import Delivery, Subscriber, SubscriberStatus, utcnow
from newsletter.delivery import editions
from newsletter.delivery.engine import send_edition
from newsletter.delivery.send_loop import SendOptions
from tests.support.db import add_subscribers, new_edition
from tests.support.posts import add_post
from tests.support.smtp import SmtpServer


def test_a_stop_request_gives_unsent_work_back(database, smtp_server: SmtpServer, settings):
    edition_id, _ = new_edition(database, 30)
    stop = threading.Event()
    stop.set()
    summary = send_edition(database, settings, edition_id, options=SendOptions(stop=stop))
    assert summary.sent == 0 and smtp_server.handler.count() == 0
    with database.session() as session:
        info = editions.describe_edition(session, edition_id)
    assert info.status == "sending" and info.counts["queued"] == 30
    assert send_edition(database, settings, edition_id).sent == 30


def test_an_unsendable_address_fails_alone(database, smtp_server: SmtpServer, settings):
    """A row stored before validation refused non-ASCII local parts must not stall a send."""
    good = add_subscribers(database, 3)
    with database.session() as session:
        session.add(
            Subscriber(
                email="jürgen@voorbeeld.nl", status=SubscriberStatus.ACTIVE, created_at=utcnow()
            )
        )
    slug = add_post(database)
    with database.session() as session:
        edition_id = editions.create_edition(session, post_queue.get(session, slug), "Rust")
    summary = send_edition(database, settings, edition_id)
    assert set(smtp_server.handler.per_address()) == set(good)
    assert (summary.sent, summary.failed, summary.status) == (3, 1, "sent")
    with database.session() as session:
        failed = session.scalars(
            select(Delivery).where(Delivery.edition_id == edition_id, Delivery.status == "failed")
        ).one()
        assert failed.last_reply is not None and "cannot build the message" in failed.last_reply
