"""Confirming a sign-up in Chromium brings one welcome mail, right away, like an edition.

The real app on uvicorn (a module of its own: Playwright's sync API holds this thread's
event loop while the browser is open), mail over real SMTP to the toolkit's aiosmtpd server.
"""

from __future__ import annotations

from playwright.sync_api import Browser

from newsletter.db.database import Database
from tests.support.db import add_edition
from tests.support.headers import bulk_sender_problems
from tests.support.posts import make_post
from tests.support.smtp import ReceivedMail
from tests.support.system import wait_until

from .conftest import LiveServer

WELCOME = "Welkom bij Nieuwsbrief van Gerrit"


def test_confirming_in_a_browser_brings_one_welcome_mail(
    browser: Browser, live_server: LiveServer, database: Database, outbox: list[ReceivedMail]
) -> None:
    add_edition(database, make_post("stil-worden", "Stil worden in een volle week"), "sent")
    page = browser.new_page()
    page.goto(f"{live_server.url}/subscribe")
    page.get_by_label("E-mailadres").fill("noor@example.nl")
    page.get_by_label("Voornaam").fill("Noor")
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_selector("text=Check je inbox")
    wait_until(lambda: outbox, timeout=10, what="the confirmation mail")

    page.goto(outbox[0].link("/confirm/"))
    page.get_by_role("button", name="Ja, ik meld me aan").click()
    page.wait_for_selector("text=Je aanmelding is bevestigd")
    wait_until(lambda: len(outbox) >= 2, timeout=10, what="the welcome mail")
    # Back on the link's page there is no button any more, only "al bevestigd"; the form
    # posted once more (a browser resending it) welcomes nobody twice. The page answers
    # only after the database said "already active", so the count is final once a later
    # mail (a sign-up of someone else) has arrived.
    page.go_back()
    page.wait_for_selector("text=Je aanmelding was al bevestigd")
    again = page.request.post(outbox[0].link("/confirm/"))
    assert "Je aanmelding was al bevestigd" in again.text()
    page.goto(f"{live_server.url}/subscribe")
    page.get_by_label("E-mailadres").fill("iemand.anders@example.nl")
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_selector("text=Check je inbox")
    wait_until(lambda: len(outbox) >= 3, timeout=10, what="the second confirmation mail")
    page.close()

    welcomes = [mail for mail in outbox if mail.message["Subject"] == WELCOME]
    assert len(welcomes) == 1
    [welcome] = welcomes
    assert welcome.recipients == ["noor@example.nl"]
    text = welcome.text().replace("\r\n", "\n")
    assert text.startswith("Hoi Noor,")
    assert "Groet,\nGerrit" in text
    assert welcome.link("/unsubscribe/").startswith(live_server.url)
    assert welcome.link("/archive/") == f"{live_server.url}/archive/stil-worden"
    assert '"Stil worden in een volle week"' in " ".join(text.split())
    html = welcome.message.get_body(preferencelist=("html",))
    assert html is not None
    content = html.get_content()
    assert f'href="{live_server.url}/archive/stil-worden"' in content
    assert "Afmelden" in content and "Groet,<br>Gerrit" in content
    # The same layout as an edition: the masthead and the card of the editions' base.
    assert 'class="masthead serif"' in content and 'class="card"' in content
    # Everything a bulk sender needs, but https: the test server speaks plain http.
    assert bulk_sender_problems(welcome.data) == ["an https URL in List-Unsubscribe"]

    # The archive link works: the reader lands on the latest edition.
    page = browser.new_page()
    page.goto(welcome.link("/archive/"))
    assert page.locator("h1").first.inner_text() == "Stil worden in een volle week"
    page.close()
