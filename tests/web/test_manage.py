"""The reader's own page over HTTP against the ASGI app: reached from an edition's footer,
a GET changes nothing, each form POSTs one change, and a new address waits for its link.

Mail goes over real SMTP to the toolkit's aiosmtpd server; background tasks finish before
the ASGI call returns, so a confirm mail is in once its request has been answered.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx

from newsletter.config import Settings
from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.db.models import Subscriber, SubscriberStatus
from newsletter.delivery import editions
from newsletter.mail.tokens import make_token
from newsletter.web.pages import dutch_date
from tests.support.db import add_subscriber, events_of, subscriber_row
from tests.support.posts import add_post
from tests.support.readers import edition_mail
from tests.support.smtp import ReceivedMail

ADDRESS = "marieke@example.nl"


def manage_path(settings: Settings, reader: int) -> str:
    """The "Instellingen" link of a real edition, in both its parts."""
    mail = edition_mail(settings, reader, ADDRESS, "Marieke")
    link = mail.link("/manage/")
    html = mail.message.get_body(preferencelist=("html",))
    assert html is not None
    assert re.search(f'href="{re.escape(link)}"[^>]*>Instellingen</a>', html.get_content())
    assert f"Pauzeren, ander adres of naam: {link}" in mail.text()
    return urlsplit(link).path


def _as_seen(database: Database, reader: int) -> tuple[object, ...]:
    row = subscriber_row(database, reader)
    return (row.email, row.name, row.status, row.paused_until, row.new_email)


async def test_the_page_from_an_edition_shows_forms_and_a_get_changes_nothing(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    reader = add_subscriber(database, ADDRESS, name="Marieke")
    before = _as_seen(database, reader)
    path = manage_path(settings, reader)
    page = await client.get(path)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    body = page.text
    assert "m•••@example.nl" in body and ADDRESS not in body
    for action in ("pause", "name", "address"):
        assert f'<form method="post" action="{path}/{action}">' in body
    assert 'action="/unsubscribe/' in body and "<script" not in body
    assert body.count('type="radio" name="weeks"') == 3
    assert (_as_seen(database, reader), events_of(database, reader)) == (before, [])


async def test_pausing_skips_editions_and_ends_by_request(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    reader = add_subscriber(database, ADDRESS)
    path = manage_path(settings, reader)
    answer = await client.post(f"{path}/pause", data={"weeks": "4"})
    assert answer.status_code == 303 and answer.headers["location"] == f"{path}?gedaan=pauze"
    page = await client.get(answer.headers["location"])
    paused_until = subscriber_row(database, reader).paused_until
    assert paused_until is not None
    last_day = dutch_date(paused_until.astimezone(ZoneInfo(settings.schedule.timezone)))
    assert f"Gelukt: je pauze loopt tot en met {last_day}." in page.text
    add_post(database)
    with database.session() as session:
        post = post_queue.get(session, "rust-vinden")
        edition_id = editions.create_edition(session, post, "Rust")
        assert editions.describe_edition(session, edition_id).recipients == 0

    assert (await client.post(f"{path}/pause", data={"weeks": "3"})).status_code == 400
    await client.post(f"{path}/resume")
    assert subscriber_row(database, reader).paused_until is None
    assert events_of(database, reader) == [("pause", "web"), ("resume", "web")]


async def test_the_greeting_name_changes_and_a_long_one_is_refused(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    reader = add_subscriber(database, ADDRESS, name="Marieke")
    path = manage_path(settings, reader)
    assert (await client.post(f"{path}/name", data={"name": "Mieke"})).status_code == 303
    assert subscriber_row(database, reader).name == "Mieke"
    assert "Hoi Mieke," in edition_mail(settings, reader, ADDRESS, "Mieke").text()
    refused = await client.post(f"{path}/name", data={"name": "x" * 201})
    assert refused.status_code == 400 and 'aria-invalid="true"' in refused.text
    assert "Deze naam is te lang" in refused.text
    assert subscriber_row(database, reader).name == "Mieke"


async def test_a_new_address_receives_only_after_its_link_is_followed(
    client: httpx.AsyncClient, database: Database, settings: Settings, outbox: list[ReceivedMail]
) -> None:
    reader = add_subscriber(database, ADDRESS)
    path = manage_path(settings, reader)
    answer = await client.post(f"{path}/address", data={"email": "Marieke@Nieuw.example"})
    assert answer.headers["location"] == f"{path}?gedaan=adres"
    [mail] = outbox
    assert mail.recipients == ["marieke@nieuw.example"]
    assert mail.message["Subject"] == "Bevestig je nieuwe e-mailadres voor Nieuwsbrief van Gerrit"
    assert subscriber_row(database, reader).email == ADDRESS  # the old one keeps receiving
    page = await client.get(path)
    assert "We wachten nog op je bevestiging van" in page.text and "m•••@nieuw.example" in page.text

    move = urlsplit(mail.link("/move/")).path
    shown = await client.get(move)  # a scanner opening the link moves nobody
    assert shown.status_code == 200 and "Ja, dit is mijn nieuwe adres" in shown.text
    assert subscriber_row(database, reader).email == ADDRESS
    done = await client.post(move)
    assert done.status_code == 200 and "Gelukt" in done.text
    row = subscriber_row(database, reader)
    assert (row.email, row.new_email, row.status) == (
        "marieke@nieuw.example",
        None,
        SubscriberStatus.ACTIVE,
    )
    # The old address hears where the newsletter went, the new address masked.
    [_, notice] = outbox
    assert notice.recipients == [ADDRESS]
    assert notice.message["Subject"] == "Je adres voor Nieuwsbrief van Gerrit is gewijzigd"
    assert "gewijzigd naar m•••@nieuw.example" in notice.text()
    assert "Was jij dit niet? Antwoord dan op deze mail" in notice.text()
    html = notice.message.get_body(preferencelist=("html",))
    assert html is not None and "m•••@nieuw.example" in html.get_content()
    assert "marieke@nieuw.example" not in notice.message.as_string()
    again = await client.post(move)
    assert again.status_code == 400 and "Deze link werkt niet meer" in again.text
    assert len(outbox) == 2  # a spent link tells nobody anything


async def test_an_address_another_reader_has_gets_no_mail_and_the_same_answer(
    client: httpx.AsyncClient, database: Database, settings: Settings, outbox: list[ReceivedMail]
) -> None:
    reader = add_subscriber(database, ADDRESS)
    add_subscriber(database, "bezet@example.nl")
    path = manage_path(settings, reader)
    taken = await client.post(f"{path}/address", data={"email": "bezet@example.nl"})
    assert taken.headers["location"] == f"{path}?gedaan=adres"
    assert outbox == [] and subscriber_row(database, reader).new_email is None
    for bad, copy in (("geen-adres", "lijkt niet te kloppen"), (ADDRESS, "al het adres")):
        refused = await client.post(f"{path}/address", data={"email": bad})
        assert refused.status_code == 400 and copy in refused.text


async def test_the_page_unsubscribes_and_then_offers_nothing_to_set(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    reader = add_subscriber(database, ADDRESS)
    path = manage_path(settings, reader)
    page = (await client.get(path)).text
    action = page.split('action="/unsubscribe/', 1)[1].split('"', 1)[0]
    assert (await client.post(f"/unsubscribe/{action}")).status_code == 200
    assert subscriber_row(database, reader).status == SubscriberStatus.UNSUBSCRIBED
    after = await client.get(path)
    assert "Je ontvangt Nieuwsbrief van Gerrit niet" in after.text
    assert (await client.post(f"{path}/pause", data={"weeks": "2"})).status_code == 303
    assert subscriber_row(database, reader).paused_until is None


async def test_only_a_manage_token_opens_the_page(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    reader = add_subscriber(database, ADDRESS)
    secret = settings.signing_key()
    for token in (make_token(secret, "unsubscribe", reader), "abc.def.ghi"):
        answer = await client.get(f"/manage/{token}")
        assert answer.status_code == 400 and "Deze link werkt niet" in answer.text
        posted = await client.post(f"/manage/{token}/pause", data={"weeks": "2"})
        assert posted.status_code == 400
    with database.session() as session:
        assert session.get(Subscriber, reader) is not None
    assert subscriber_row(database, reader).paused_until is None
