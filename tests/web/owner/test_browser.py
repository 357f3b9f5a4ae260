"""The owner's area in headless Chromium on a real uvicorn: logging in with the link from
the mail, the overview over a seeded history, an edition, an action, logging out. Each
page is kept at 375 and 1280 px (``test-artifacts/screenshots/web-owner-*.png``)."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Browser

from newsletter.db.alerts import ONCE, record_alert
from newsletter.db.database import Database
from newsletter.db.models import Feed
from tests.support.history import History
from tests.support.posts import add_post, make_post
from tests.support.smtp import ReceivedMail
from tests.support.system import screenshot, wait_until

from ..conftest import LiveServer
from .conftest import AREA, FEED


def seed(database: Database, history: History) -> int:
    """Beside the history: three queued posts, a failing feed and a pending alert; the
    last edition."""
    now = history.base
    for slug, title in (
        ("loslaten-zonder-haast", "Loslaten zonder haast"),
        ("een-langere-titel", "Een wat langere titel over zelfcompassie in drukke weken"),
        ("stilte", "Stilte"),
    ):
        add_post(database, make_post(slug, title))
    with database.session() as session:
        session.add(
            Feed(
                url=FEED,
                added_at=now - timedelta(weeks=30),
                last_polled_at=now - timedelta(minutes=20),
                last_success_at=now - timedelta(days=1),
                failing_since=now - timedelta(hours=20),
                last_error="HTTP 503 van gerritvanderheide.com",
            )
        )
        record_alert(
            session,
            cause="feed-failing",
            period=ONCE,
            subject="Nieuwsbrief: de feed van je blog werkt al een dag niet",
            paragraphs=["De feed gaf een fout."],
        )
    return history.edition_ids[-1]


def test_the_owner_looks_around_in_a_real_browser(
    browser: Browser,
    owner_server: LiveServer,
    database: Database,
    history: History,
    outbox: list[ReceivedMail],
) -> None:
    last_edition = seed(database, history)
    page = browser.new_page()
    page.goto(owner_server.url + AREA)
    assert page.get_attribute("html", "lang") == "nl"
    screenshot(page, "owner-login")

    page.get_by_role("button", name="Stuur me een inloglink").click()
    page.wait_for_selector("text=Kijk in je mailbox")
    screenshot(page, "owner-link-sent")
    wait_until(lambda: outbox, timeout=10, what="the login mail")
    link = outbox[-1].link(AREA + "/inloggen/")
    page.goto(link)
    screenshot(page, "owner-use-link")
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_selector("text=Hoe gaat het met de nieuwsbrief?")
    screenshot(page, "owner-overview")
    assert page.locator("svg.chart").count() == 4
    assert page.get_by_role("img", name="Actieve lezers per week").count() == 1
    assert "Loslaten zonder haast" in page.inner_text("main")
    assert "HTTP 503" in page.inner_text("main")
    assert "de feed van je blog werkt al een dag niet" in page.inner_text("main")

    page.get_by_role("link", name=f"#{last_edition}", exact=True).click()
    page.wait_for_selector(f"text=Editie #{last_edition}")
    screenshot(page, "owner-edition")

    page.go_back()
    page.get_by_role("button", name="Omlaag").first.click()
    page.wait_for_selector("text=De wachtrij is aangepast.")
    titles = page.locator("ol.queue li span").all_inner_texts()
    assert titles[:2] == [
        "Een wat langere titel over zelfcompassie in drukke weken",
        "Loslaten zonder haast",
    ]

    # No edition waits: "Tegenhouden" holds the one the next slot makes, until released.
    page.get_by_role("button", name="Tegenhouden").click()
    page.wait_for_selector("text=Je houdt de volgende nieuwsbrief tegen")
    screenshot(page, "owner-next-held")
    page.get_by_role("button", name="Vrijgeven").click()
    page.wait_for_selector("text=gaat gewoon uit op het vaste moment")
    assert page.get_by_role("button", name="Tegenhouden").count() == 1

    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_selector("text=Stuur me een inloglink")
    page.goto(link)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_selector("text=Deze inloglink werkt niet meer")
    screenshot(page, "owner-spent-link")
    page.close()
