"""Soft bounces add up across editions: 3 of the last 5 (config), a delivery resets it;
the late soft bounces (a DSN after the relay said yes) add up with the SMTP ones.

Five editions through a real aiosmtpd relay that answers each reader's RCPTs from a
script; after each edition the readers' statuses, the bounce events and the edition's
states (they add up to its recipients) are checked.
"""

from __future__ import annotations

from sqlalchemy import select, update

from newsletter.config import BouncesSection, Settings
from newsletter.db import post_queue
from newsletter.db import subscribers as subscriber_list
from newsletter.db.database import Database
from newsletter.db.models import Delivery, Event, Subscriber, utcnow
from newsletter.delivery import editions
from newsletter.delivery.engine import send_edition
from newsletter.returns.apply import process_message
from newsletter.returns.report import edition_returns
from tests.support.db import add_subscribers, assert_states_add_up
from tests.support.posts import add_post, make_post
from tests.support.returned import BOUNCES, delivery_of, returned, status_of
from tests.support.settings import OWNER, make_settings, relay
from tests.support.smtp import Faults, SmtpServer

FULL = "452 4.2.2 Mailbox full"
# Failed: a soft bounce that adds up (issue 22), but no reason to drop the reader at once.
FULL_FOR_GOOD = "552 5.2.2 Mailbox full for good"
LOCAL = "451 4.3.0 Temporary local problem"
GREYLISTED = "451 4.7.1 Greylisted, please try again later"
# Every edition: what each reader's RCPTs are answered (the rest are accepted).
SCRIPT = {
    1: {"a": [FULL, FULL_FOR_GOOD], "b": [FULL, FULL_FOR_GOOD], "c": [LOCAL] * 4,
        "d": [GREYLISTED], "e": [FULL, FULL_FOR_GOOD]},
    2: {"a": [FULL, FULL_FOR_GOOD], "b": [FULL, FULL_FOR_GOOD], "d": [GREYLISTED],
        "e": [FULL_FOR_GOOD]},
    3: {"a": [FULL, FULL_FOR_GOOD], "d": [GREYLISTED], "e": [FULL, FULL_FOR_GOOD]},
    4: {"b": [FULL, FULL_FOR_GOOD], "d": [GREYLISTED], "e": [FULL_FOR_GOOD]},
    5: {"b": [FULL, FULL_FOR_GOOD], "d": [GREYLISTED], "e": [FULL, FULL_FOR_GOOD]},
}  # fmt: skip
# Who is bounced after each edition, and why.
BOUNCED_AFTER = {
    1: {"c": "a temporary failure on every retry"},
    3: {
        "a": "temporary failures in 3 of the last 5 editions",
        "e": "temporary failures in 3 of the last 5 editions",  # 552 5.2.2 in edition 2 counts
    },
}


def _send_to_the_end(
    database: Database, edition_id: int, port: int, settings: Settings | None = None
) -> None:
    """Send, then retry the deferred messages at once, until the edition is done."""
    settings = settings or make_settings(
        smtp=relay(port, retry_first_minutes=0.001, retry_max_hours=0.0001),
        bounces=BouncesSection(soft_limit=3, soft_window=5),
    )
    for _ in range(8):
        if send_edition(database, settings, edition_id).status == "sent":
            return
        assert_states_add_up(database, edition_id)
        with database.session() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.edition_id == edition_id, Delivery.status == "deferred")
                .values(next_attempt_at=utcnow())
            )
    raise AssertionError(f"edition {edition_id} did not finish")


def test_soft_bounces_over_five_editions(database: Database):
    readers = dict(zip("abcde", add_subscribers(database, 5), strict=True))
    others = add_subscribers(database, 10, start=100)
    faults = Faults(pipelining=True)
    server = SmtpServer(faults).start()
    expected: dict[str, str] = {}
    try:
        for number in range(1, 6):
            faults.rcpt_script = {
                readers[name]: list(replies) for name, replies in SCRIPT[number].items()
            }
            slug = add_post(database, make_post(f"rust-vinden-{number}"))
            with database.session() as session:
                post = post_queue.get(session, slug)
                edition_id = editions.create_edition(session, post, f"Editie {number}")
            _send_to_the_end(database, edition_id, server.port)
            assert_states_add_up(database, edition_id)

            expected.update(BOUNCED_AFTER.get(number, {}))
            with database.session() as session:
                rows = session.execute(select(Subscriber.email, Subscriber.status)).all()
                statuses = {email: status for email, status in rows}
                events = session.execute(
                    select(Subscriber.email, Event.detail, Event.edition_id)
                    .join(Subscriber, Subscriber.id == Event.subscriber_id)
                    .where(Event.kind == "bounce")
                ).all()
            bounced = {email for email, status in statuses.items() if status == "bounced"}
            assert bounced == {readers[name] for name in expected}, f"after edition {number}"
            reasons = {email: detail["reason"] for email, detail, _ in events}
            assert reasons == {readers[name]: reason for name, reason in expected.items()}
            assert all(detail["reply"] for _, detail, _ in events)
    finally:
        server.stop()
    received = server.handler.per_address()
    assert received[readers["d"]] == 5, "greylisting, then delivered: every edition arrives"
    assert received[readers["b"]] == 1  # edition 3; its delivery reset the count
    assert all(received[address] == 5 for address in others)


SOFT = [FULL, FULL_FOR_GOOD]  # 452 during the send, then 552: a soft bounce, not delivered


def _late_soft_bounce_counts_with_the_smtp_ones(
    database: Database, database_url: str, plan: list[str]
) -> str:
    """One reader through editions by ``plan`` ("smtp": a 452 during the send, "clean":
    delivered, "late": delivered, then a late soft DSN; "reactivate": no edition, the
    owner brings the bounced reader back); the reader's status at the end."""
    (reader,) = add_subscribers(database, 1)
    faults = Faults(pipelining=True)
    server = SmtpServer(faults).start()
    settings = make_settings(
        newsletter={"owner_address": OWNER},
        database={"url": database_url},
        smtp=relay(server.port, retry_first_minutes=0.001, retry_max_hours=0.0001),
        bounces=BouncesSection(address=BOUNCES, soft_limit=3, soft_window=5),
    )
    try:
        for number, step in enumerate(plan, start=1):
            if step == "reactivate":
                with database.session() as session:
                    subscriber_list.reactivate(session, reader, actor="cli")
                continue
            faults.rcpt_script = {reader: list(SOFT)} if step == "smtp" else {}
            slug = add_post(database, make_post(f"week-{number}"))
            with database.session() as session:
                post = post_queue.get(session, slug)
                edition_id = editions.create_edition(session, post, f"Editie {number}")
            _send_to_the_end(database, edition_id, server.port, settings)
            if step == "late":
                raw = returned(server, database, edition_id, reader, "postfix_mailbox_full.eml")
                first = process_message(database, settings, raw, source="test")
                assert first.result == "soft" and not first.duplicate
                after = status_of(database, reader)
                again = process_message(database, settings, raw, source="test")
                assert again.duplicate and status_of(database, reader) == after
                assert delivery_of(database, edition_id, reader).soft_bounce
    finally:
        server.stop()
    return status_of(database, reader)


def test_two_smtp_soft_bounces_and_a_late_one_make_a_reader_bounced(
    database: Database, database_url: str
) -> None:
    plan = ["smtp", "smtp", "late"]
    assert _late_soft_bounce_counts_with_the_smtp_ones(database, database_url, plan) == "bounced"
    with database.session() as session:
        (detail,) = session.scalars(select(Event.detail).where(Event.kind == "bounce")).all()
        # `editions show`: each edition counts its soft bounce, at SMTP time or late
        returns = [edition_returns(session, number) for number in (1, 2, 3)]
    assert detail["type"] == "soft" and detail["status_after"] == "bounced"
    assert [(r.soft, r.hard) for r in returns] == [(1, 0), (1, 0), (1, 0)]


def test_a_clean_edition_in_between_resets_the_count(database: Database, database_url: str) -> None:
    plan = ["smtp", "smtp", "clean", "late"]
    assert _late_soft_bounce_counts_with_the_smtp_ones(database, database_url, plan) == "active"


def test_a_reactivated_reader_is_counted_afresh(database: Database, database_url: str) -> None:
    """Dropped by three soft bounces and brought back: the old marks stay in the ledger
    but count no more, so the next soft bounces do not drop them again until three
    editions after the reactivation have one: edition 6, not 4 (a reactivation makes no
    edition, so the plan's seventh step sends edition 6)."""
    plan = ["smtp", "smtp", "smtp", "reactivate", "smtp", "smtp", "smtp"]
    assert _late_soft_bounce_counts_with_the_smtp_ones(database, database_url, plan) == "bounced"
    with database.session() as session:
        drops = session.scalars(
            select(Event.edition_id).where(Event.kind == "bounce").order_by(Event.id)
        ).all()
        marks = session.scalars(select(Delivery.soft_bounce).order_by(Delivery.id)).all()
    assert drops == [3, 6]
    assert marks == [True] * 6  # history kept
