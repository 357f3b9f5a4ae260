"""Unsubscribing over real HTTP: the link page, its button, one-click, resubscribe."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import select

from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.db.models import Delivery, Subscriber, SubscriberStatus, utcnow
from newsletter.db.models import Post as PostRow
from newsletter.db.subscribers import remove
from newsletter.delivery.editions import create_edition
from newsletter.mail.tokens import make_token
from tests.support.db import add_subscriber, events_of, subscriber_row
from tests.support.posts import make_post
from tests.support.settings import SECRET

ADDRESS = "anna.de.vries@example.nl"


def unsubscribe_path(subscriber_id: int) -> str:
    return f"/unsubscribe/{make_token(SECRET, 'unsubscribe', subscriber_id)}"


def resubscribe_form_action(page: str) -> str:
    match = re.search(r'action="(/resubscribe/[^"]+)"', page)
    assert match, "no resubscribe button on the page"
    return match[1]


async def test_get_shows_masked_address_and_changes_nothing(
    client: httpx.AsyncClient, database: Database
) -> None:
    subscriber_id = add_subscriber(database, ADDRESS)

    for _ in range(3):  # a mail scanner opening the link, twice, then the person
        response = await client.get(unsubscribe_path(subscriber_id))
        assert response.status_code == 200

    assert "Je afmelden voor Nieuwsbrief van Gerrit" in response.text
    assert "a•••@example.nl" in response.text
    assert ADDRESS not in response.text
    assert response.headers["cache-control"] == "no-store"
    assert subscriber_row(database, subscriber_id).status == SubscriberStatus.ACTIVE
    assert events_of(database, subscriber_id) == []


async def test_post_unsubscribes_with_source_link_and_writes_an_event(
    client: httpx.AsyncClient, database: Database
) -> None:
    subscriber_id = add_subscriber(database, ADDRESS)

    response = await client.post(unsubscribe_path(subscriber_id))

    assert response.status_code == 200
    assert "Je bent afgemeld" in response.text
    assert "Toch weer aanmelden" in response.text
    row = subscriber_row(database, subscriber_id)
    assert row.status == SubscriberStatus.UNSUBSCRIBED
    assert row.unsubscribe_source == "link"
    assert row.unsubscribed_at is not None
    assert events_of(database, subscriber_id) == [("unsubscribe", "link")]


async def test_one_click_post_unsubscribes_with_source_one_click(
    client: httpx.AsyncClient, database: Database
) -> None:
    subscriber_id = add_subscriber(database, ADDRESS)

    response = await client.post(
        unsubscribe_path(subscriber_id), data={"List-Unsubscribe": "One-Click"}
    )

    assert response.status_code == 200
    assert len(response.content) < 100
    assert ADDRESS not in response.text
    row = subscriber_row(database, subscriber_id)
    assert (row.status, row.unsubscribe_source) == (SubscriberStatus.UNSUBSCRIBED, "one-click")
    assert events_of(database, subscriber_id) == [("unsubscribe", "one-click")]


async def test_one_click_as_multipart_form_data(
    client: httpx.AsyncClient, database: Database
) -> None:
    """RFC 8058 allows both form encodings; some providers send multipart."""
    subscriber_id = add_subscriber(database, ADDRESS)

    response = await client.post(
        unsubscribe_path(subscriber_id), files={"List-Unsubscribe": (None, "One-Click")}
    )

    assert response.status_code == 200
    assert subscriber_row(database, subscriber_id).unsubscribe_source == "one-click"


async def test_repeating_is_harmless(client: httpx.AsyncClient, database: Database) -> None:
    subscriber_id = add_subscriber(database, ADDRESS)
    path = unsubscribe_path(subscriber_id)

    first = await client.post(path, data={"List-Unsubscribe": "One-Click"})
    again = [
        await client.post(path, data={"List-Unsubscribe": "One-Click"}),
        await client.post(path),
        await client.get(path),
    ]

    assert first.status_code == 200
    assert [r.status_code for r in again] == [200, 200, 200]
    assert "Je bent afgemeld" in again[2].text  # the GET of an unsubscribed person
    row = subscriber_row(database, subscriber_id)
    assert row.unsubscribe_source == "one-click"
    assert events_of(database, subscriber_id) == [("unsubscribe", "one-click")]


async def test_bounced_subscriber_keeps_the_stronger_status(
    client: httpx.AsyncClient, database: Database
) -> None:
    subscriber_id = add_subscriber(database, ADDRESS, SubscriberStatus.BOUNCED)

    response = await client.post(unsubscribe_path(subscriber_id))

    assert response.status_code == 200
    assert "Toch weer aanmelden" not in response.text
    assert subscriber_row(database, subscriber_id).status == SubscriberStatus.BOUNCED
    assert events_of(database, subscriber_id) == []


async def test_resubscribe_from_the_confirmation_page(
    client: httpx.AsyncClient, database: Database
) -> None:
    subscriber_id = add_subscriber(database, ADDRESS)
    unsubscribed = await client.post(unsubscribe_path(subscriber_id))
    action = resubscribe_form_action(unsubscribed.text)

    response = await client.post(action)
    twice = await client.post(action)

    assert response.status_code == twice.status_code == 200
    assert "Je bent weer aangemeld" in response.text
    row = subscriber_row(database, subscriber_id)
    assert row.status == SubscriberStatus.ACTIVE
    assert row.unsubscribe_source is None
    assert events_of(database, subscriber_id) == [("unsubscribe", "link"), ("resubscribe", "web")]


async def test_an_old_link_cannot_undo_an_admin_removal_or_an_old_unsubscribe(
    client: httpx.AsyncClient, database: Database
) -> None:
    removed = add_subscriber(database, "weg@example.nl")
    with database.session() as session:
        remove(session, "weg@example.nl")  # the admin, source "admin"
    page = await client.get(unsubscribe_path(removed))
    assert 'action="/resubscribe/' not in page.text
    forged = await client.post(f"/resubscribe/{make_token(SECRET, 'resubscribe', removed)}")
    assert "Je bent weer aangemeld" not in forged.text
    assert subscriber_row(database, removed).status == SubscriberStatus.UNSUBSCRIBED

    long_ago = add_subscriber(database, ADDRESS)
    await client.post(unsubscribe_path(long_ago))
    with database.session() as session:
        row = session.get(Subscriber, long_ago)
        assert row is not None
        row.unsubscribed_at = utcnow() - timedelta(days=40)
    later = await client.get(unsubscribe_path(long_ago))
    assert 'action="/resubscribe/' not in later.text
    again = await client.post(f"/resubscribe/{make_token(SECRET, 'resubscribe', long_ago)}")
    assert "Je bent weer aangemeld" not in again.text
    assert subscriber_row(database, long_ago).status == SubscriberStatus.UNSUBSCRIBED


async def test_tokens_are_not_interchangeable(
    client: httpx.AsyncClient, database: Database
) -> None:
    subscriber_id = add_subscriber(database, ADDRESS)
    unsubscribe_token = make_token(SECRET, "unsubscribe", subscriber_id)
    confirm_token = make_token(SECRET, "confirm", subscriber_id)

    answers = [
        await client.post(f"/resubscribe/{unsubscribe_token}"),
        await client.post(f"/unsubscribe/{confirm_token}"),
        await client.post(f"/confirm/{unsubscribe_token}"),
        await client.get(f"/unsubscribe/{make_token(SECRET, 'resubscribe', subscriber_id)}"),
    ]

    assert [a.status_code for a in answers] == [400, 400, 400, 400]
    assert all("Deze link werkt niet" in a.text for a in answers)
    assert subscriber_row(database, subscriber_id).status == SubscriberStatus.ACTIVE


async def test_forgotten_subscriber_token_shows_no_data(
    client: httpx.AsyncClient, database: Database
) -> None:
    subscriber_id = add_subscriber(database, ADDRESS, name="Anna")
    with database.session() as session:
        remove(session, ADDRESS, forget=True)

    shown = await client.get(unsubscribe_path(subscriber_id))
    posted = await client.post(unsubscribe_path(subscriber_id))

    for response in (shown, posted):
        assert response.status_code == 200
        assert "Je bent afgemeld" in response.text
        assert "•••" not in response.text
        assert "Toch weer aanmelden" not in response.text


async def test_unsubscribed_person_is_left_out_of_the_next_edition(
    client: httpx.AsyncClient, database: Database
) -> None:
    leaving = add_subscriber(database, ADDRESS)
    staying = add_subscriber(database, "bram@example.nl")
    await client.post(unsubscribe_path(leaving), data={"List-Unsubscribe": "One-Click"})

    with database.session() as session:
        post_queue.import_posts(
            session, [make_post("innerlijke-rust", "Innerlijke rust", every_block=True)]
        )
        post = session.scalars(select(PostRow)).one()
        edition_id = create_edition(session, post, post.title)
        snapshot = set(
            session.scalars(select(Delivery.subscriber_id).where(Delivery.edition_id == edition_id))
        )

    assert snapshot == {staying}
