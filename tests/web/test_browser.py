"""Headless Chromium against a real uvicorn server: what a subscriber actually sees and does.

The unsubscribe link comes out of a real rendered email (render, recipient_for,
build_message). Screenshots at phone and desktop width are kept in
``test-artifacts/screenshots/web-*.png`` for a human to look at.
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime
from email.message import EmailMessage

from playwright.sync_api import Browser

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.db.models import SubscriberStatus
from newsletter.mail.message import build_message
from newsletter.mail.render import render_edition
from tests.support.db import add_edition, add_subscriber
from tests.support.db import subscriber_row as row_of
from tests.support.posts import make_post
from tests.support.readers import recipient_of
from tests.support.smtp import ReceivedMail
from tests.support.system import screenshot, wait_until

from .conftest import LiveServer


def unsubscribe_link_from_email(settings: Settings, subscriber_id: int, address: str) -> str:
    edition = render_edition(
        make_post("innerlijke-rust", "Innerlijke rust", every_block=True), settings.newsletter
    )
    recipient = recipient_of(
        settings, subscriber_id, address, "Marieke", post_slug="innerlijke-rust"
    )
    raw = build_message(edition, recipient, settings.newsletter, now=datetime.now(UTC))
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    match = re.search(r'href="([^"]+/unsubscribe/[^"]+)"[^>]*>Afmelden<', html.get_content())
    assert match, "no Afmelden link in the rendered email"
    return match[1]


def test_unsubscribe_in_a_real_browser(
    browser: Browser, live_server: LiveServer, database: Database
) -> None:
    address = "marieke@example.nl"
    subscriber_id = add_subscriber(database, address, name="Marieke")
    link = unsubscribe_link_from_email(live_server.settings, subscriber_id, address)
    assert link.startswith(live_server.url)
    page = browser.new_page()

    page.goto(link)
    assert page.locator("h1").inner_text() == "Je afmelden voor Nieuwsbrief van Gerrit"
    assert "m•••@example.nl" in page.inner_text("main")
    assert page.get_attribute("html", "lang") == "nl"
    screenshot(page, "unsubscribe")
    assert row_of(database, subscriber_id).status == SubscriberStatus.ACTIVE

    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")  # masthead link
    page.keyboard.press("Tab")  # the button
    focused = page.evaluate(
        "[document.activeElement.textContent, getComputedStyle(document.activeElement).outlineStyle]"
    )
    assert focused == ["Ja, meld me af", "solid"]

    page.get_by_role("button", name="Ja, meld me af").click()
    page.wait_for_selector("text=Je bent afgemeld")
    screenshot(page, "unsubscribed")
    row = row_of(database, subscriber_id)
    assert (row.status, row.unsubscribe_source) == (SubscriberStatus.UNSUBSCRIBED, "link")

    page.get_by_role("button", name="Toch weer aanmelden").click()
    page.wait_for_selector("text=Je bent weer aangemeld")
    assert row_of(database, subscriber_id).status == SubscriberStatus.ACTIVE
    page.close()


def test_sign_up_in_a_real_browser(
    browser: Browser, live_server: LiveServer, database: Database, outbox: list[ReceivedMail]
) -> None:
    page = browser.new_page()
    page.goto(f"{live_server.url}/subscribe")
    screenshot(page, "subscribe")

    page.get_by_label("E-mailadres").fill("nieuwe.lezer@example.nl")
    page.get_by_label("Voornaam").fill("Noor")
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_selector("text=Check je inbox")
    screenshot(page, "check-inbox")

    # The mail leaves after the response.
    wait_until(lambda: outbox, timeout=10, what="the confirmation mail")
    page.goto(outbox[0].link("/confirm/"))
    page.get_by_role("button", name="Ja, ik meld me aan").click()
    page.wait_for_selector("text=Je aanmelding is bevestigd")
    screenshot(page, "confirmed")
    with database.session() as session:
        from newsletter.db.subscribers import find

        subscriber = find(session, "nieuwe.lezer@example.nl")
        assert subscriber is not None and subscriber.status == SubscriberStatus.ACTIVE
    page.close()


def test_archive_in_a_real_browser(
    browser: Browser, live_server: LiveServer, database: Database
) -> None:
    add_edition(database, make_post("innerlijke-rust", "Innerlijke rust", every_block=True), "sent")
    page = browser.new_page()
    page.goto(f"{live_server.url}/archive")
    screenshot(page, "archive")

    page.get_by_role("link", name="Innerlijke rust").click()
    page.wait_for_selector("text=Wat rust werkelijk is")
    screenshot(page, "archive-edition")
    assert page.get_by_role("link", name="Aanmelden").first.get_attribute("href") == (
        f"{live_server.url}/subscribe"
    )
    assert page.get_by_role("link", name="Instellingen").count() == 0  # nobody's own page
    page.close()
