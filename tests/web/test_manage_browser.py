"""A reader's whole path in Chromium: sign up on the page, confirm from the mail, open
"Instellingen" from a real edition, pause, rename, move to a new address and confirm it.

The real app on uvicorn, editions sent by the real engine, all mail over real SMTP to the
toolkit's aiosmtpd server. Screenshots at phone and desktop width land in
``test-artifacts/screenshots/web-manage-*.png``.
"""

from __future__ import annotations

import threading

from playwright.sync_api import Browser, Page

from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.db.models import SubscriberStatus
from newsletter.delivery import editions
from newsletter.delivery.engine import send_edition
from tests.support.db import subscriber_row
from tests.support.posts import add_post, make_post
from tests.support.smtp import ReceivedMail
from tests.support.system import wait_until

from .conftest import LiveServer
from .test_browser import screenshot
from .test_signup import subscriber_by_address

OLD = "noor@example.nl"
NEW = "noor@nieuw.example"


def _mail_to(outbox: list[ReceivedMail], address: str, subject: str) -> ReceivedMail:
    def found() -> list[ReceivedMail]:
        return [
            mail
            for mail in outbox
            if mail.recipients == [address] and str(mail.message["Subject"]).startswith(subject)
        ]

    wait_until(found, timeout=10, what=f"{subject!r} to {address}")
    return found()[-1]


def _send_edition(live_server: LiveServer, database: Database, slug: str) -> int:
    """An edition of ``slug`` made now and sent by the engine; its number of recipients.

    The engine runs its own event loop, so it runs in a thread of its own: Playwright's
    sync API holds this thread's loop.
    """
    with database.session() as session:
        edition_id = editions.create_edition(session, post_queue.get(session, slug), slug)
        recipients = editions.describe_edition(session, edition_id).recipients
    worker = threading.Thread(
        target=send_edition, args=(database, live_server.settings, edition_id)
    )
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the edition did not finish sending"
    return recipients


def _sign_up_and_confirm(page: Page, live_server: LiveServer, outbox: list[ReceivedMail]) -> None:
    page.goto(f"{live_server.url}/subscribe")
    page.get_by_label("E-mailadres").fill(OLD)
    page.get_by_label("Voornaam").fill("Noor")
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_selector("text=Check je inbox")
    page.goto(_mail_to(outbox, OLD, "Bevestig je aanmelding").link("/confirm/"))
    page.get_by_role("button", name="Ja, ik meld me aan").click()
    page.wait_for_selector("text=Je aanmelding is bevestigd")


def test_a_reader_pauses_renames_and_moves_from_the_page_in_an_edition(
    browser: Browser, live_server: LiveServer, database: Database, outbox: list[ReceivedMail]
) -> None:
    page = browser.new_page()
    _sign_up_and_confirm(page, live_server, outbox)
    add_post(database, make_post("eerste-week", "De eerste week"))
    assert _send_edition(live_server, database, "eerste-week") == 1
    edition = _mail_to(outbox, OLD, "De eerste week")
    reader = subscriber_by_address(database, OLD)
    assert reader is not None
    assert (reader.email, reader.consent_source, reader.consent_ip) == (OLD, "form", "127.0.0.1")

    page.goto(edition.link("/manage/"))
    assert page.locator("h1").inner_text() == "Je instellingen"
    assert page.get_attribute("html", "lang") == "nl"
    screenshot(page, "manage")
    page.get_by_label("4 weken").check()
    page.get_by_role("button", name="Pauzeren").click()
    page.wait_for_selector("text=Gelukt: je pauze loopt tot en met")
    screenshot(page, "manage-paused")
    add_post(database, make_post("tweede-week", "De tweede week"))
    assert _send_edition(live_server, database, "tweede-week") == 0  # paused: skipped

    page.get_by_role("button", name="Pauze nu beëindigen").click()
    page.wait_for_selector("text=Gelukt: je pauze is voorbij")
    page.get_by_label("Voornaam").fill("Noortje")
    page.get_by_role("button", name="Naam opslaan").click()
    page.wait_for_selector("text=Gelukt: je naam is opgeslagen")

    page.get_by_label("Nieuw e-mailadres").fill(NEW)
    page.get_by_role("button", name="Bevestigingsmail sturen").click()
    page.wait_for_selector("text=Bijna klaar")
    screenshot(page, "manage-moving")
    move = _mail_to(outbox, NEW, "Bevestig je nieuwe e-mailadres")
    assert move.text().startswith("Hoi Noortje,")
    add_post(database, make_post("derde-week", "De derde week"))
    assert _send_edition(live_server, database, "derde-week") == 1
    _mail_to(outbox, OLD, "De derde week")  # not confirmed yet: the old address receives

    page.goto(move.link("/move/"))
    screenshot(page, "move")
    page.get_by_role("button", name="Ja, dit is mijn nieuwe adres").click()
    page.wait_for_selector("text=Vanaf de volgende editie")
    screenshot(page, "moved")
    page.close()

    add_post(database, make_post("vierde-week", "De vierde week"))
    assert _send_edition(live_server, database, "vierde-week") == 1
    fourth = _mail_to(outbox, NEW, "De vierde week")
    assert fourth.text().startswith("Hoi Noortje,")
    reader = subscriber_row(database, reader.id)
    assert (reader.email, reader.name, reader.status) == (NEW, "Noortje", SubscriberStatus.ACTIVE)
