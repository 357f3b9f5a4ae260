"""What an edition carries, as an owner and a reader see it: a busy week on the blog, from
the feed to the inbox (the ``newsletter`` command, a local feed, a real SMTP server), and
a resumed send and the archive showing the cards the edition went out with."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import httpx
import lxml.html
import pytest

from newsletter.config import Settings
from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.delivery.engine import send_edition
from newsletter.delivery.publish import prepare_edition
from newsletter.feeds.poll import poll_feeds
from newsletter.web.app import create_app
from tests.support.cli import NewsletterCli
from tests.support.db import add_subscribers
from tests.support.feeds import FeedServer, Item, Route, post_html, wordpress_rss
from tests.support.headers import bulk_sender_problems
from tests.support.posts import BLOG, FEED_ADDED, add_blog_posts, card_posts, make_post
from tests.support.settings import SENDER, make_settings
from tests.support.smtp import SmtpServer


def _item(number: int, days_after_first_poll: int) -> Item:
    return Item(
        title=f"Loslaten, deel {number}",
        link=f"{BLOG}/loslaten-deel-{number}/",
        guid=f"{BLOG}/?p={100 + number}",
        published=FEED_ADDED + timedelta(days=days_after_first_poll),
        html=post_html(f"Dit is het begin van deel {number}. Over wat je vasthoudt."),
    )


@pytest.fixture
def newsletter(
    database_url: str, tmp_path: Path, smtp_server: SmtpServer, feed_server: FeedServer
) -> NewsletterCli:
    cli = NewsletterCli(database_url, tmp_path)
    cli.env.update(
        {
            "NEWSLETTER_NEWSLETTER__BASE_URL": "https://nieuwsbrief.gerritvanderheide.com",
            "NEWSLETTER_NEWSLETTER__FROM_ADDRESS": SENDER,
            "NEWSLETTER_POSTS__FEEDS": json.dumps([feed_server.url("/feed/")]),
            "NEWSLETTER_SMTP__TRANSPORT": "smtp",
            "NEWSLETTER_SMTP__HOST": "127.0.0.1",
            "NEWSLETTER_SMTP__PORT": str(smtp_server.port),
            "NEWSLETTER_SMTP__SECURITY": "none",
        }
    )
    return cli


def _parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_a_busy_week_from_the_feed_to_the_inbox(
    database: Database,
    newsletter: NewsletterCli,
    feed_server: FeedServer,
    smtp_server: SmtpServer,
) -> None:
    # The blog when the newsletter was set up: one old post, the back catalogue.
    feed_server.routes["/feed/"] = Route(wordpress_rss([_item(1, -30)]))
    poll_feeds(database, make_settings(posts={"feeds": (feed_server.url("/feed/"),)}), FEED_ADDED)
    # Then a busy week: three new posts.
    feed_server.routes["/feed/"] = Route(
        wordpress_rss([_item(1, -30), _item(2, 20), _item(3, 21), _item(4, 22)])
    )
    newsletter.ok("posts", "fetch")
    add_subscribers(database, 3)

    dry = newsletter.ok("send", "--next", "--dry-run")
    assert "post:       loslaten-deel-2: Loslaten, deel 2" in dry
    assert "cards:      loslaten-deel-3, loslaten-deel-4" in dry
    assert "check:      passed" in dry, dry
    preview = newsletter.ok("preview", "--format", "text")
    assert "Ook nieuw op de blog" in preview and "Loslaten, deel 4" in preview
    assert f"Lees dit artikel op de blog: {BLOG}/loslaten-deel-2/" in " ".join(preview.split())

    newsletter.ok("send", "--next", "--yes")

    assert smtp_server.handler.count() == 3
    for _address, raw in smtp_server.handler.messages:
        assert bulk_sender_problems(raw) == []
        message = _parsed(raw)
        assert message["Feedback-ID"] == (
            "loslaten-deel-2:nieuwsbrief.example.org:edition:gerritvanderhei"
        )
        html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
        tree = lxml.html.document_fromstring(html)
        assert [a.get("href") for a in tree.xpath("//h1//a")] == [f"{BLOG}/loslaten-deel-2/"]
        teasers = tree.xpath("//a[normalize-space()='Lees verder op de blog']/@href")
        assert teasers == [f"{BLOG}/loslaten-deel-3/", f"{BLOG}/loslaten-deel-4/"]
    queue = {row["slug"]: row for row in json.loads(newsletter.ok("posts", "list", "--json"))}
    sent_in = {queue[f"loslaten-deel-{n}"]["edition"] for n in (2, 3, 4)}
    assert [row["status"] for row in queue.values()].count("sent") == 3 and len(sent_in) == 1
    assert queue["loslaten-deel-1"]["status"] == "queued"
    (edition,) = sent_in
    shown = json.loads(newsletter.ok("editions", "show", str(edition), "--json"))
    assert shown["cards"] == ["loslaten-deel-3", "loslaten-deel-4"]
    assert "cards       loslaten-deel-3, loslaten-deel-4" in newsletter.ok(
        "editions", "show", str(edition)
    )
    (listed,) = json.loads(newsletter.ok("editions", "list", "--json"))
    assert listed["cards"] == shown["cards"]
    # A card never comes back as the article; the back catalogue is next, without cards.
    after = newsletter.ok("send", "--next", "--dry-run")
    assert "post:       loslaten-deel-1" in after and "cards:" not in after
    assert "already sent" in newsletter.fails("send", "loslaten-deel-3", "--yes")


def test_a_resumed_send_and_the_archive_show_the_cards_it_went_out_with(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    article = make_post("nieuw-artikel", "Nieuw artikel", url=f"{BLOG}/nieuw-artikel/")
    add_blog_posts(database, [article, *card_posts()])
    add_subscribers(database, 2)
    with database.session() as session:
        post = post_queue.get(session, article.slug)
        prepared = prepare_edition(session, settings, post, actor="admin", on_failure="refuse")
        assert prepared.rendered.card_slugs == ("loslaten-deel-2", "zelfcompassie")
    # Cards off by now, and nothing rendered handed over: the engine renders the edition
    # itself, with the cards stored for it.
    later = replace(settings, newsletter=replace(settings.newsletter, more_posts=0))
    send_edition(database, later, prepared.edition_id)
    assert smtp_server.handler.count() == 2
    for _address, raw in smtp_server.handler.messages:
        text = _parsed(raw).get_body(preferencelist=("plain",))
        assert text is not None and "Zelfcompassie als je moe bent" in text.get_content()

    page = asyncio.run(_archive_page(later, database, article.slug))
    tree = lxml.html.document_fromstring(page)
    assert tree.xpath("//head/link[@rel='canonical']/@href") == [f"{BLOG}/nieuw-artikel/"]
    assert tree.xpath("//a[normalize-space()='Lees verder op de blog']/@href") == [
        f"{BLOG}/loslaten-deel-2/",
        f"{BLOG}/zelfcompassie/",
    ]


async def _archive_page(settings: Settings, database: Database, slug: str) -> str:
    transport = httpx.ASGITransport(app=create_app(settings, database))
    base_url = settings.newsletter.base_url
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        return (await client.get(f"/archive/{slug}")).text
