"""Signing up with double opt-in, end to end through a real SMTP server."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select, update

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.db.models import Subscriber, SubscriberStatus, utcnow
from newsletter.db.subscribers import remove
from newsletter.mail.tokens import make_token
from newsletter.web.app import create_app
from tests.support.db import add_subscriber, events_of, subscriber_row
from tests.support.settings import SECRET
from tests.support.settings import SENDER as FROM_ADDRESS
from tests.support.smtp import ReceivedMail
from tests.support.system import wait_until_async

from .conftest import LiveServer, http_client

ADDRESS = "sanne@example.nl"


def subscriber_by_address(database: Database, address: str) -> Subscriber | None:
    with database.session() as session:
        return session.scalars(select(Subscriber).where(Subscriber.email == address)).one_or_none()


def subscriber_id_of(database: Database, address: str) -> int:
    found = subscriber_by_address(database, address)
    assert found is not None
    return found.id


async def test_confirm_flow_end_to_end(
    client: httpx.AsyncClient, database: Database, outbox: list[ReceivedMail]
) -> None:
    response = await client.post(
        "/subscribe", data={"email": " Sanne@Example.nl ", "name": "Sanne"}
    )

    assert response.status_code == 200
    assert "Check je inbox" in response.text
    pending = subscriber_by_address(database, ADDRESS)
    assert pending is not None and pending.status == SubscriberStatus.PENDING

    [mail] = outbox
    assert mail.sender == FROM_ADDRESS
    assert mail.recipients == [ADDRESS]
    message = mail.message
    assert message["Subject"] == "Bevestig je aanmelding voor Nieuwsbrief van Gerrit"
    assert message["Message-ID"].endswith("@gerritvanderheide.com>")
    assert message["Date"] is not None
    assert message["To"] == f"Sanne <{ADDRESS}>"
    assert message["From"] == f"Gerrit <{FROM_ADDRESS}>"
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    assert b"\r\n" in mail.data
    assert "Hoi Sanne," in mail.text()
    link = mail.link("/confirm/")
    html = message.get_body(preferencelist=("html",))
    assert html is not None and link in html.get_content()

    path = urlsplit(link).path
    shown = await client.get(path)
    assert shown.status_code == 200
    assert "Bevestig je aanmelding" in shown.text
    assert "s•••@example.nl" in shown.text
    assert subscriber_row(database, pending.id).status == SubscriberStatus.PENDING

    confirmed = await client.post(path)
    assert confirmed.status_code == 200
    assert "Je aanmelding is bevestigd" in confirmed.text
    row = subscriber_row(database, pending.id)
    assert row.status == SubscriberStatus.ACTIVE
    assert row.confirmed_at is not None
    assert row.name == "Sanne"
    assert events_of(database, pending.id) == [("signup", "web"), ("confirm", "web")]


async def test_json_signup(
    client: httpx.AsyncClient, database: Database, outbox: list[ReceivedMail]
) -> None:
    response = await client.post("/subscribe", json={"email": ADDRESS})

    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert response.headers["access-control-allow-origin"] == "*"
    assert len(outbox) == 1
    invalid = await client.post("/subscribe", json={"email": "niet-een-adres"})
    assert invalid.status_code == 400
    assert invalid.json()["code"] == "invalid_email"
    broken = await client.post(
        "/subscribe", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400


async def test_cors_preflight(client: httpx.AsyncClient) -> None:
    response = await client.options("/subscribe")
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]


@pytest.mark.parametrize("as_json", [False, True])
async def test_answer_never_reveals_whether_an_address_is_known(
    settings: Settings,
    database: Database,
    outbox: list[ReceivedMail],
    as_json: bool,
) -> None:
    known = {
        "pending@example.nl": SubscriberStatus.PENDING,
        "active@example.nl": SubscriberStatus.ACTIVE,
        "weg@example.nl": SubscriberStatus.UNSUBSCRIBED,
        "stuk@example.nl": SubscriberStatus.BOUNCED,
    }
    ids = {address: add_subscriber(database, address, status) for address, status in known.items()}
    app = create_app(settings, database)
    answers = []
    for index, address in enumerate(["nieuw@example.nl", *known]):
        # One client address each, so the per-IP limit plays no part here.
        async with http_client(app, client_ip=f"198.51.100.{index + 1}") as http:
            if as_json:
                response = await http.post("/subscribe", json={"email": address})
            else:
                response = await http.post("/subscribe", data={"email": address})
        answers.append((response.status_code, response.headers["content-type"], response.text))

    assert all(answer == answers[0] for answer in answers), answers
    assert answers[0][0] == 200
    mailed = sorted(recipient for mail in outbox for recipient in mail.recipients)
    assert mailed == ["nieuw@example.nl", "pending@example.nl", "stuk@example.nl", "weg@example.nl"]
    # Asking changes nobody: opted-out people stay out until they confirm.
    for address, status in known.items():
        assert subscriber_row(database, ids[address]).status == status


async def test_unsubscribed_person_comes_back_only_by_confirming(
    client: httpx.AsyncClient, database: Database, outbox: list[ReceivedMail]
) -> None:
    subscriber_id = add_subscriber(database, ADDRESS, SubscriberStatus.UNSUBSCRIBED)

    await client.post("/subscribe", data={"email": ADDRESS})
    assert subscriber_row(database, subscriber_id).status == SubscriberStatus.UNSUBSCRIBED
    path = urlsplit(outbox[0].link("/confirm/")).path
    await client.get(path)
    assert subscriber_row(database, subscriber_id).status == SubscriberStatus.UNSUBSCRIBED
    await client.post(path)

    row = subscriber_row(database, subscriber_id)
    assert row.status == SubscriberStatus.ACTIVE
    assert row.unsubscribe_source is None
    assert events_of(database, subscriber_id) == [("confirm", "web")]


async def test_honeypot_pretends_success_and_does_nothing(
    client: httpx.AsyncClient, database: Database, outbox: list[ReceivedMail]
) -> None:
    normal = await client.post("/subscribe", data={"email": "echt@example.nl"})
    trapped = await client.post(
        "/subscribe", data={"email": ADDRESS, "website": "https://spam.example"}
    )

    assert trapped.status_code == normal.status_code == 200
    assert trapped.text == normal.text
    assert subscriber_by_address(database, ADDRESS) is None
    assert [mail.recipients for mail in outbox] == [["echt@example.nl"]]


async def test_rate_limit_per_ip(client: httpx.AsyncClient, outbox: list[ReceivedMail]) -> None:
    answers = [
        await client.post("/subscribe", data={"email": f"persoon{i}@example.nl"}) for i in range(6)
    ]

    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert "Even rustig aan" in answers[-1].text
    assert answers[-1].headers["retry-after"] == "60"
    assert len(outbox) == 5
    as_json = await client.post("/subscribe", json={"email": "nog@example.nl"})
    assert as_json.status_code == 429
    assert as_json.json()["code"] == "rate_limited"


async def test_confirmation_mails_per_address_are_capped(
    client: httpx.AsyncClient, outbox: list[ReceivedMail]
) -> None:
    for _ in range(4):
        response = await client.post("/subscribe", data={"email": ADDRESS})
        assert response.status_code == 200
    assert len(outbox) == 3


async def test_invalid_address_shows_the_form_again(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await client.post("/subscribe", data={"email": "anna@", "name": "Anna"})

    assert response.status_code == 400
    assert "Dit e-mailadres lijkt niet te kloppen" in response.text
    assert 'value="anna@"' in response.text
    assert 'aria-invalid="true"' in response.text


async def test_subscribe_form_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/subscribe")

    assert response.status_code == 200
    assert '<label for="email">E-mailadres</label>' in response.text
    assert 'name="website"' in response.text
    assert 'lang="nl"' in response.text


async def test_expired_confirm_link(client: httpx.AsyncClient, database: Database) -> None:
    subscriber_id = add_subscriber(database, ADDRESS, SubscriberStatus.PENDING)
    token = make_token(SECRET, "confirm", subscriber_id, clock=lambda: time.time() - 8 * 24 * 3600)

    shown = await client.get(f"/confirm/{token}")
    posted = await client.post(f"/confirm/{token}")

    for response in (shown, posted):
        assert response.status_code == 400
        assert "Deze link is verlopen" in response.text
    assert subscriber_row(database, subscriber_id).status == SubscriberStatus.PENDING


async def test_erased_person_can_sign_up_again_and_be_erased_again(
    client: httpx.AsyncClient, database: Database, outbox: list[ReceivedMail]
) -> None:
    first_id = add_subscriber(database, ADDRESS)
    with database.session() as session:
        remove(session, ADDRESS, forget=True)

    await client.post("/subscribe", data={"email": ADDRESS})
    await client.post(urlsplit(outbox[0].link("/confirm/")).path)

    again = subscriber_by_address(database, ADDRESS)
    assert again is not None and again.id != first_id
    assert again.status == SubscriberStatus.ACTIVE
    with database.session() as session:
        remove(session, ADDRESS, forget=True)  # a second erasure must not collide
    assert subscriber_row(database, again.id).email is None


# Issue 20, defect 6: a confirmation link acts once, on the sign-up it was mailed for. An
# old link POSTed again never undoes what happened since; the app runs under uvicorn.


async def confirm_path(outbox: list[ReceivedMail], number: int) -> str:
    """The path of the ``number``-th confirmation mail (from 1); it leaves after the answer."""

    def links() -> list[str]:
        return [mail.link("/confirm/") for mail in outbox if "Bevestig" in mail.message["Subject"]]

    await wait_until_async(lambda: len(links()) >= number, timeout=10, what="the confirmation mail")
    return urlsplit(links()[number - 1]).path


async def unsubscribe_by_link(http: httpx.AsyncClient, database: Database, reader: int) -> None:
    answer = await http.post(f"/unsubscribe/{make_token(SECRET, 'unsubscribe', reader)}")
    assert answer.status_code == 200


async def remove_by_admin(http: httpx.AsyncClient, database: Database, reader: int) -> None:
    with database.session() as session:
        remove(session, ADDRESS)  # what `newsletter subscribers remove` does


async def complain(http: httpx.AsyncClient, database: Database, reader: int) -> None:
    with database.session() as session:  # as returns.apply records a complaint
        row = session.get(Subscriber, reader)
        assert row is not None
        row.status, row.unsubscribed_at = SubscriberStatus.COMPLAINED, utcnow()


async def bounce(http: httpx.AsyncClient, database: Database, reader: int) -> None:
    with database.session() as session:  # as the ledger marks a hard bounce
        session.execute(
            update(Subscriber)
            .where(Subscriber.id == reader)
            .values(status=SubscriberStatus.BOUNCED)
        )


OPT_OUTS = {
    "unsubscribed": unsubscribe_by_link,
    "removed": remove_by_admin,
    "complained": complain,
    "bounced": bounce,
}


def state(database: Database, reader: int) -> tuple[str, object, object]:
    row = subscriber_row(database, reader)
    return row.status, row.confirmed_at, row.unsubscribed_at


@pytest.mark.parametrize("opt_out", list(OPT_OUTS))
async def test_an_old_confirmation_link_never_undoes_a_later_opt_out(
    live_server: LiveServer, database: Database, outbox: list[ReceivedMail], opt_out: str
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        await http.post("/subscribe", data={"email": ADDRESS})
        path = await confirm_path(outbox, 1)
        assert "Je aanmelding is bevestigd" in (await http.post(path)).text
        reader = subscriber_id_of(database, ADDRESS)
        await OPT_OUTS[opt_out](http, database, reader)
        before = state(database, reader)

        for answer in (await http.get(path), await http.post(path)):
            assert answer.status_code == 400
            assert "Deze link werkt niet meer" in answer.text
            assert answer.headers["cache-control"] == "no-store"
    assert state(database, reader) == before
    assert before[0] == (SubscriberStatus.UNSUBSCRIBED if opt_out == "removed" else opt_out)


async def test_a_link_made_before_the_reader_was_removed_changes_nothing(
    live_server: LiveServer, database: Database, outbox: list[ReceivedMail]
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        await http.post("/subscribe", data={"email": ADDRESS})
        path = await confirm_path(outbox, 1)
        reader = subscriber_id_of(database, ADDRESS)
        await remove_by_admin(http, database, reader)
        answer = await http.post(path)
    assert "Deze link werkt niet meer" in answer.text
    assert subscriber_row(database, reader).status == SubscriberStatus.UNSUBSCRIBED


async def test_a_second_click_says_already_confirmed(
    live_server: LiveServer, database: Database, outbox: list[ReceivedMail]
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        await http.post("/subscribe", data={"email": ADDRESS})
        path = await confirm_path(outbox, 1)
        first = await http.post(path)
        reader = subscriber_id_of(database, ADDRESS)
        confirmed = state(database, reader)
        again = [await http.post(path), await http.get(path)]
    assert "Je aanmelding is bevestigd" in first.text
    for answer in again:
        assert answer.status_code == 200
        assert "Je aanmelding was al bevestigd" in answer.text
        assert "Ja, ik meld me aan" not in answer.text
    assert state(database, reader) == confirmed
    assert events_of(database, reader) == [("signup", "web"), ("confirm", "web")]


async def test_a_reader_who_opted_out_comes_back_with_a_new_link_only(
    live_server: LiveServer, database: Database, outbox: list[ReceivedMail]
) -> None:
    """Signing up again after an opt-out mails a new link, which brings the reader back;
    a link made before they came back by "Toch weer aanmelden" is spent by that."""
    reader = add_subscriber(database, ADDRESS, SubscriberStatus.ACTIVE)
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        await unsubscribe_by_link(http, database, reader)
        with database.session() as session:  # they unsubscribed a while ago
            session.execute(
                update(Subscriber)
                .where(Subscriber.id == reader)
                .values(unsubscribed_at=utcnow() - timedelta(days=1))
            )
        await http.post("/subscribe", data={"email": ADDRESS})
        first = await confirm_path(outbox, 1)
        assert "Je aanmelding is bevestigd" in (await http.post(first)).text
        assert subscriber_row(database, reader).status == SubscriberStatus.ACTIVE

        await unsubscribe_by_link(http, database, reader)
        await http.post("/subscribe", data={"email": ADDRESS})
        second = await confirm_path(outbox, 2)
        token = make_token(SECRET, "resubscribe", reader)
        assert (await http.post(f"/resubscribe/{token}")).status_code == 200
        await bounce(http, database, reader)
        answer = await http.post(second)
    assert "Deze link werkt niet meer" in answer.text
    assert subscriber_row(database, reader).status == SubscriberStatus.BOUNCED
