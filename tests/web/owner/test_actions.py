"""The owner's actions: each a POST with its CSRF token that does what the CLI does and
records an event with actor ``owner``."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from newsletter.db import owner_hold, post_queue
from newsletter.db.database import Database
from newsletter.db.models import Edition, Event, SubscriberStatus
from newsletter.delivery.editions import hold
from tests.support.db import add_edition, events_of, subscriber_row
from tests.support.history import History
from tests.support.posts import add_post, make_post
from tests.support.settings import OWNER
from tests.support.smtp import ReceivedMail

from .conftest import AREA, csrf_of, log_in

SLUGS = ("eerste", "tweede", "derde")


def queue(database: Database) -> list[str]:
    with database.session() as session:
        return [e.slug for e in post_queue.entries(session) if e.status == "queued"]


def owner_events(database: Database) -> list[tuple[str, int | None, dict[str, object] | None]]:
    with database.session() as session:
        rows = session.execute(
            select(Event.kind, Event.edition_id, Event.detail)
            .where(Event.actor == "owner")
            .order_by(Event.id)
        )
        return [(kind, edition_id, detail) for kind, edition_id, detail in rows]


def edition_status(database: Database, edition_id: int) -> str:
    with database.session() as session:
        edition = session.get(Edition, edition_id)
        assert edition is not None
        return edition.status


async def act(client: httpx.AsyncClient, name: str, **fields: str) -> str:
    """Press an action's button on the overview; the overview it comes back to."""
    token = csrf_of(await client.get(AREA))
    answer = await client.post(f"{AREA}/acties/{name}", data={"csrf": token, **fields})
    assert answer.status_code == 303, answer.text
    return (await client.get(answer.headers["location"])).text


async def test_moving_and_skipping_posts(
    client: httpx.AsyncClient, database: Database, outbox: list[ReceivedMail]
) -> None:
    for slug in SLUGS:
        add_post(database, make_post(slug, slug.title()))
    await log_in(client, outbox)

    assert "De wachtrij is aangepast." in await act(client, "omlaag", post="eerste")
    assert queue(database) == ["tweede", "eerste", "derde"]
    await act(client, "omhoog", post="derde")
    assert queue(database) == ["tweede", "derde", "eerste"]
    assert "Dat kon niet" in await act(client, "omhoog", post="tweede")  # already first
    for wrong in ("bestaat-niet", "twee\x00de", "x" * 300):
        assert "Dat kon niet" in await act(client, "overslaan", post=wrong), wrong
    assert "Het stuk wordt overgeslagen." in await act(client, "overslaan", post="derde")
    assert queue(database) == ["tweede", "eerste"]

    assert owner_events(database) == [
        ("post_moved", None, {"post": "eerste", "direction": "down"}),
        ("post_moved", None, {"post": "derde", "direction": "up"}),
        ("post_skipped", None, {"post": "derde"}),
    ]


async def test_holding_and_releasing_the_waiting_edition(
    client: httpx.AsyncClient, database: Database, outbox: list[ReceivedMail]
) -> None:
    edition_id = add_edition(database, make_post("wacht", "Wacht even"), "draft")
    await log_in(client, outbox)

    page = await act(client, "vasthouden", editie=str(edition_id))
    assert "tegengehouden tot je haar vrijgeeft" in page
    assert edition_status(database, edition_id) == "held"
    assert "Vrijgeven" in page
    await act(client, "vrijgeven", editie=str(edition_id))
    assert edition_status(database, edition_id) == "draft"
    for wrong in (str(edition_id), "99999999999", "-1", "٣", ""):
        assert "Dat kon niet" in await act(client, "vrijgeven", editie=wrong), wrong

    kinds = [(kind, edition) for kind, edition, _detail in owner_events(database)]
    assert kinds == [("edition_held", edition_id), ("edition_released", edition_id)]


async def test_holding_the_next_edition_before_the_slot_makes_it(
    client: httpx.AsyncClient, database: Database, outbox: list[ReceivedMail]
) -> None:
    add_post(database, make_post("volgende", "Het volgende stuk"))
    await log_in(client, outbox)
    assert "Tegenhouden" in (await client.get(AREA)).text  # no edition made yet

    page = await act(client, "vasthouden")
    assert "wordt gemaakt maar niet verstuurd, tot je hem vrijgeeft" in page
    assert "Je houdt de volgende nieuwsbrief tegen" in page
    with database.session() as session:
        assert owner_hold.pending(session)
    page = await act(client, "vrijgeven")
    assert "gaat gewoon uit op het vaste moment" in page
    assert "Je houdt de volgende nieuwsbrief tegen" not in page
    assert "Dat kon niet" in await act(client, "vrijgeven")  # nothing held any more
    with database.session() as session:
        assert not owner_hold.pending(session)

    # A page opened before the slot made a draft in review: its button holds that draft.
    edition_id = add_edition(database, make_post("gemaakt", "Net gemaakt"), "draft")
    await act(client, "vasthouden")
    assert edition_status(database, edition_id) == "held"
    kinds = [(kind, edition) for kind, edition, _detail in owner_events(database)]
    assert kinds == [
        (owner_hold.ASKED, None),
        (owner_hold.WITHDRAWN, None),
        ("edition_held", edition_id),
    ]


async def test_releasing_an_edition_the_returns_limits_held(
    client: httpx.AsyncClient, database: Database, outbox: list[ReceivedMail]
) -> None:
    edition_id = add_edition(database, make_post("wacht", "Wacht even"), "draft")
    with database.session() as session:
        hold(session, edition_id, "edition 3 had 9 hard bounces")
    await log_in(client, outbox)
    assert "edition 3 had 9 hard bounces" in (await client.get(AREA)).text

    await act(client, "vrijgeven", editie=str(edition_id))

    assert edition_status(database, edition_id) == "draft"
    [(kind, _edition, detail)] = owner_events(database)
    assert (kind, detail) == ("edition_released", {"reason": "edition 3 had 9 hard bounces"})


async def test_the_review_copy_goes_to_the_owner(
    client: httpx.AsyncClient, database: Database, outbox: list[ReceivedMail]
) -> None:
    add_post(database, make_post("volgende", "Het volgende stuk"))
    await log_in(client, outbox)

    page = await act(client, "proefexemplaar")

    assert "Het proefexemplaar is naar je mailbox gestuurd." in page
    copy = outbox[-1]
    assert copy.recipients == [OWNER]
    assert copy.message["Subject"].startswith("[TEST] ")
    assert owner_events(database) == [("review_copy_sent", None, {"post": "volgende"})]


async def test_an_action_without_its_csrf_token_changes_nothing(
    client: httpx.AsyncClient, database: Database, outbox: list[ReceivedMail]
) -> None:
    for slug in SLUGS:
        add_post(database, make_post(slug, slug.title()))
    await log_in(client, outbox)

    for fields in ({}, {"csrf": "f" * 64}):
        answer = await client.post(f"{AREA}/acties/omlaag", data={"post": "eerste", **fields})
        assert answer.status_code == 403
        assert "Dat lukte niet" in answer.text

    assert queue(database) == list(SLUGS)
    assert owner_events(database) == []


async def test_a_reader_dropped_by_mistake_comes_back_and_one_who_left_does_not(
    client: httpx.AsyncClient, database: Database, history: History, outbox: list[ReceivedMail]
) -> None:
    overview = (await log_in(client, outbox)).text
    bounced = next(r for r in history.readers if r.left_as == SubscriberStatus.BOUNCED)
    complained = next(r for r in history.readers if r.left_as == SubscriberStatus.COMPLAINED)
    assert bounced.email in overview  # listed with a button of its own

    page = await act(client, "terugzetten", adres=bounced.email.upper())

    assert "De lezer krijgt de nieuwsbrief weer." in page
    assert subscriber_row(database, bounced.id).status == SubscriberStatus.ACTIVE
    for wrong in (complained.email, "niemand@example.nl", "geen adres", bounced.email):
        assert "Dat adres kan niet terug" in await act(client, "terugzetten", adres=wrong), wrong
    assert subscriber_row(database, complained.id).status == SubscriberStatus.COMPLAINED
    assert events_of(database, bounced.id)[-1] == ("reactivate", "owner")
