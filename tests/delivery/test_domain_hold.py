"""delivery/domain_hold: the suspect rule and the figures it counts, from the ledger's
refusal events and the returned reports, per edition and receiving domain."""

from __future__ import annotations

from sqlalchemy import select, update

from newsletter.db.database import Database
from newsletter.db.events import record_event
from newsletter.db.models import (
    BounceReport,
    Delivery,
    DeliveryStatus,
    Event,
    ReportResult,
    Subscriber,
)
from newsletter.delivery.domain_hold import (
    SuspectPolicy,
    domain_of,
    hard_readers,
    mail_to,
    send_refusals,
)
from tests.support.db import add_subscriber, new_edition


def test_the_rule_needs_the_minimum_and_more_than_the_share() -> None:
    rule = SuspectPolicy(minimum=5, percent=20.0)
    assert not rule.holds(4, 4)  # every one of them, but fewer than five
    assert not rule.holds(5, 25)  # exactly a fifth
    assert rule.holds(5, 24)
    assert rule.holds(10, 10)


def test_a_domain_is_the_lowercase_part_after_the_last_at() -> None:
    assert domain_of("Lezer@Voorbeeld.NL") == "voorbeeld.nl"
    assert domain_of('"a@b"@voorbeeld.nl') == "voorbeeld.nl"


def _ids(database: Database) -> dict[str, int]:
    with database.session() as session:
        return {
            email: sid for sid, email in session.execute(select(Subscriber.id, Subscriber.email))
        }


def _set_status(database: Database, edition_id: int, status: str, emails: list[str]) -> None:
    ids = _ids(database)
    with database.session() as session:
        session.execute(
            update(Delivery)
            .where(
                Delivery.edition_id == edition_id,
                Delivery.subscriber_id.in_([ids[email] for email in emails]),
            )
            .values(status=status)
        )


def test_send_refusals_read_the_ledger_events_and_a_confirmation_makes_a_held_one_hard(
    database: Database,
) -> None:
    edition_id, readers = new_edition(database, 4)
    ids = _ids(database)
    with database.session() as session:
        record_event(session, "bounce", "sender", ids[readers[0]], edition_id, type="hard")
        record_event(session, "bounce", "sender", ids[readers[1]], edition_id, type="suspect")
        record_event(session, "bounce", "sender", ids[readers[2]], edition_id, type="suspect")
        # written before events carried their type: hard by their reason, else soft
        record_event(
            session,
            "bounce",
            "sender",
            ids[readers[3]],
            edition_id,
            reason="the address does not exist",
        )
    with database.session() as session:
        refusal = session.scalar(
            select(Event.id).where(Event.subscriber_id == ids[readers[1]], Event.actor == "sender")
        )
        # the owner confirms one held refusal: an event of its own names it
        record_event(session, "bounce", "cli", ids[readers[1]], edition_id, refusal=refusal)
    with database.session() as session:
        found = send_refusals(session.connection(), edition_id)
    assert found == {
        ids[readers[0]]: "hard",
        ids[readers[1]]: "hard",  # the owner confirmed it
        ids[readers[2]]: "suspect",
        ids[readers[3]]: "hard",
    }


def test_hard_readers_and_mail_count_one_domain_only_and_its_name_is_no_pattern(
    database: Database,
) -> None:
    edition_id, readers = new_edition(database, 3)  # lezerN@voorbeeld.nl
    add_subscriber(database, "elders@voorbeeld_nl.example")
    ids = _ids(database)
    _set_status(database, edition_id, DeliveryStatus.SENT, readers[:2])
    _set_status(database, edition_id, DeliveryStatus.FAILED, readers[2:])
    with database.session() as session:
        record_event(session, "bounce", "sender", ids[readers[2]], edition_id, type="suspect")
        session.add(
            BounceReport(
                fingerprint="f" * 64,
                part=0,
                source="mail",
                result=ReportResult.HARD,
                reason="userunknown",
                diagnostic="550 5.1.1",
                domain="voorbeeld.nl",
                subscriber_id=ids[readers[0]],
                edition_id=edition_id,
            )
        )
    with database.session() as session:
        connection = session.connection()
        assert hard_readers(connection, edition_id, "voorbeeld.nl") == {
            ids[readers[0]],
            ids[readers[2]],
        }
        assert mail_to(connection, edition_id, "voorbeeld.nl") == 3
        # "_" is a LIKE wildcard: voorbeeld.nl must not match voorbeeld_nl.example, nor back
        assert mail_to(connection, edition_id, "voorbeeld_nl.example") == 0
        assert hard_readers(connection, edition_id, "elders.example") == set()
