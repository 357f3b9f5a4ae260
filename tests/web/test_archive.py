"""The public archive: only editions that went out, shown as sent but to nobody in particular."""

from __future__ import annotations

import httpx
import lxml.html

from newsletter.db.database import Database
from newsletter.db.models import SubscriberStatus
from newsletter.mail.render import PLACEHOLDERS
from tests.support.db import add_edition, add_subscriber
from tests.support.posts import make_post

ADDRESS = "lezer@example.nl"


async def test_archive_lists_only_editions_that_went_out(
    client: httpx.AsyncClient, database: Database
) -> None:
    add_edition(database, make_post("verzonden", "Verzonden stuk"), "sent")
    add_edition(database, make_post("onderweg", "Stuk dat nu verzonden wordt"), "sending")
    add_edition(database, make_post("concept", "Nog een concept"), "draft")
    add_edition(database, make_post("geannuleerd", "Geannuleerd stuk"), "cancelled")

    index = await client.get("/archive")
    unsent = [await client.get(f"/archive/{slug}") for slug in ("concept", "geannuleerd")]

    assert index.status_code == 200
    assert "Verzonden stuk" in index.text and "Stuk dat nu verzonden wordt" in index.text
    assert "Nog een concept" not in index.text and "Geannuleerd stuk" not in index.text
    assert [r.status_code for r in unsent] == [404, 404]
    assert "Deze pagina bestaat niet" in unsent[0].text


async def test_archive_edition_shows_the_email_without_personal_data(
    client: httpx.AsyncClient, database: Database
) -> None:
    add_subscriber(database, ADDRESS, name="Lieke")
    add_subscriber(database, "weg@example.nl", SubscriberStatus.UNSUBSCRIBED)
    add_edition(database, make_post("innerlijke-rust", "Innerlijke rust", every_block=True), "sent")

    response = await client.get("/archive/innerlijke-rust")
    cached = await client.get("/archive/innerlijke-rust")

    assert response.status_code == 200
    assert cached.text == response.text
    page = response.text
    assert "Innerlijke rust" in page
    assert "Hoi," in page
    assert "Lieke" not in page and "example.nl" not in page
    assert "/unsubscribe/" not in page and "Afmelden" not in page
    assert 'href="http://testserver/subscribe"' in page and "Aanmelden" in page
    assert 'href="http://testserver/archive/innerlijke-rust"' in page
    assert not any(placeholder in page for placeholder in PLACEHOLDERS)


async def test_archive_names_the_post_on_the_blog_as_the_source(
    client: httpx.AsyncClient, database: Database
) -> None:
    blog = "https://www.gerritvanderheide.com/innerlijke-rust/?a=1&b=2"
    add_edition(database, make_post("met-adres", "Met adres", url=blog), "sent")
    add_edition(database, make_post("zonder-adres", "Zonder adres"), "sent")

    page = (await client.get("/archive/met-adres")).text
    tree = lxml.html.document_fromstring(page)
    assert [link.get("href") for link in tree.xpath("//head/link[@rel='canonical']")] == [blog]
    assert [a.get("href") for a in tree.xpath("//h1//a")] == [blog]
    without = lxml.html.document_fromstring((await client.get("/archive/zonder-adres")).text)
    assert not without.xpath("//link[@rel='canonical']")
