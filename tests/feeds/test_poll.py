"""Polling feeds into the queue against a real HTTP server: WordPress RSS, Atom, broken feeds.

Every test polls the server over loopback with the real fetcher (httpx) and imports into a
real database (SQLite and PostgreSQL), then looks at the queue and at the requests the
server saw (conditional GET, User-Agent).
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.content import Post
from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.db.models import Edition, EditionStatus, Feed
from newsletter.db.models import Post as PostRow
from newsletter.feeds.poll import poll_feeds
from newsletter.mail.render import post_url, render_edition
from tests.support.feeds import (
    MALFORMED,
    XML_BOMB,
    FeedServer,
    Item,
    Route,
    atom,
    chunks,
    post_html,
    wordpress_rss,
)
from tests.support.settings import make_settings

FIRST_POLL = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _settings(*urls: str, timeout: float = 20.0) -> Settings:
    return make_settings(posts={"feeds": urls, "fetch_timeout_seconds": timeout})


def _item(number: int, published: datetime, **changes: object) -> Item:
    item = Item(
        title=f"Loslaten, deel {number}",
        link=f"https://www.gerritvanderheide.com/loslaten-deel-{number}/",
        guid=f"https://www.gerritvanderheide.com/?p={100 + number}",
        published=published,
        html=post_html(f"Dit is het begin van deel {number}."),
    )
    return replace(item, **changes)  # type: ignore[arg-type]


def _queue(database: Database) -> list[tuple[str, str]]:
    with database.session() as session:
        return [(e.slug, e.status) for e in post_queue.entries(session)]


def _post(database: Database, slug: str) -> Post:
    with database.session() as session:
        return post_queue.document(post_queue.get(session, slug))


def _documents(database: Database) -> dict[str, dict[str, object]]:
    with database.session() as session:
        return {row.slug: dict(row.document) for row in session.scalars(select(PostRow))}


def test_a_wordpress_feed_adds_its_posts_once_and_a_second_poll_is_conditional(
    database: Database, feed_server: FeedServer
) -> None:
    items = [_item(1, FIRST_POLL - timedelta(days=9)), _item(2, FIRST_POLL - timedelta(days=2))]
    feed_server.routes["/feed/"] = Route(
        wordpress_rss(items), etag='"v1"', last_modified="Sun, 01 Nov 2026 10:00:00 GMT"
    )
    settings = _settings(feed_server.url("/feed/"))

    [first] = poll_feeds(database, settings, FIRST_POLL)
    assert (first.added, first.updated, first.unchanged, first.error) == (2, 0, 0, None)
    [second] = poll_feeds(database, settings, FIRST_POLL + timedelta(hours=1))
    assert second.not_modified and (second.added, second.updated) == (0, 0)

    requests = feed_server.requests_to("/feed/")
    assert len(requests) == 2
    assert "If-None-Match" not in requests[0].headers
    assert requests[1].headers["If-None-Match"] == '"v1"'
    assert requests[1].headers["If-Modified-Since"] == "Sun, 01 Nov 2026 10:00:00 GMT"
    assert requests[0].headers["User-Agent"].startswith("newsletter/")
    assert _queue(database) == [("loslaten-deel-1", "queued"), ("loslaten-deel-2", "queued")]

    document = _documents(database)["loslaten-deel-1"]
    assert document["url"] == "https://www.gerritvanderheide.com/loslaten-deel-1/"
    assert document["category"] == "Loslaten"
    kinds = [block["type"] for block in document["blocks"]]  # type: ignore[attr-defined]
    assert kinds == ["paragraph", "paragraph", "heading", "paragraph", "quote", "prompt",
                     "list", "paragraph"]  # fmt: skip
    assert "summary_only" not in document
    # Every "read on the blog" link of the email is the item's own link, not a search URL.
    link = "https://www.gerritvanderheide.com/loslaten-deel-1/"
    assert (
        post_url(_post(database, "loslaten-deel-1"), settings.newsletter.post_url_template) == link
    )


def test_a_feed_without_validators_is_read_again_and_changes_nothing(
    database: Database, feed_server: FeedServer
) -> None:
    feed_server.routes["/feed/"] = Route(wordpress_rss([_item(1, FIRST_POLL)]))
    settings = _settings(feed_server.url("/feed/"))
    poll_feeds(database, settings, FIRST_POLL)
    before = _documents(database)
    [again] = poll_feeds(database, settings, FIRST_POLL + timedelta(hours=1))
    assert (again.added, again.updated, again.unchanged, again.not_modified) == (0, 0, 1, False)
    assert _documents(database) == before


def test_a_changed_guid_with_the_same_link_is_the_same_post(
    database: Database, feed_server: FeedServer
) -> None:
    feed_server.routes["/feed/"] = Route(wordpress_rss([_item(1, FIRST_POLL)]))
    settings = _settings(feed_server.url("/feed/"))
    poll_feeds(database, settings, FIRST_POLL)
    moved = _item(1, FIRST_POLL, guid="urn:uuid:3f0c2a4e-nieuwe-guid")
    feed_server.routes["/feed/"] = Route(wordpress_rss([moved]))
    [report] = poll_feeds(database, settings, FIRST_POLL + timedelta(hours=1))
    assert (report.added, report.unchanged) == (0, 1)
    assert _queue(database) == [("loslaten-deel-1", "queued")]
    # The new GUID is remembered: the item is found by it from now on, even if its link moves.
    moved_again = replace(moved, link="https://www.gerritvanderheide.com/nieuw-adres/")
    feed_server.routes["/feed/"] = Route(wordpress_rss([moved_again]))
    [report] = poll_feeds(database, settings, FIRST_POLL + timedelta(hours=2))
    assert report.added == 0
    assert _documents(database)["loslaten-deel-1"]["url"] == moved_again.link


def test_an_edit_on_the_blog_updates_the_queued_post_but_never_a_sent_one(
    database: Database, feed_server: FeedServer
) -> None:
    feed_server.routes["/feed/"] = Route(
        wordpress_rss([_item(1, FIRST_POLL), _item(2, FIRST_POLL)])
    )
    settings = _settings(feed_server.url("/feed/"))
    poll_feeds(database, settings, FIRST_POLL)
    with database.session() as session:
        sent = post_queue.get(session, "loslaten-deel-1")
        session.add(Edition(post_id=sent.id, status=EditionStatus.SENT, subject="deel 1"))
    edited = [
        _item(n, FIRST_POLL, html=post_html(f"Herschreven opening van deel {n}.")) for n in (1, 2)
    ]
    feed_server.routes["/feed/"] = Route(wordpress_rss(edited))
    [report] = poll_feeds(database, settings, FIRST_POLL + timedelta(hours=1))
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    documents = _documents(database)
    assert "Herschreven opening van deel 2." in str(documents["loslaten-deel-2"]["blocks"])
    assert "Dit is het begin van deel 1." in str(documents["loslaten-deel-1"]["blocks"])
    assert "Herschreven" not in str(documents["loslaten-deel-1"]["blocks"])


def test_an_atom_feed_works_the_same(database: Database, feed_server: FeedServer) -> None:
    feed_server.routes["/atom.xml"] = Route(
        atom([_item(7, FIRST_POLL, guid="tag:blog.example.nl,2026:7")]),
        content_type="application/atom+xml",
    )
    [report] = poll_feeds(database, _settings(feed_server.url("/atom.xml")), FIRST_POLL)
    assert report.added == 1
    document = _documents(database)["loslaten-deel-7"]
    assert document["url"] == "https://www.gerritvanderheide.com/loslaten-deel-7/"
    assert "Wat je loslaat, maakt ruimte voor wat komt." in str(document["blocks"])


def test_a_feed_with_only_summaries_sends_an_excerpt_that_reads_on_at_the_blog(
    database: Database, feed_server: FeedServer
) -> None:
    item = _item(
        3,
        FIRST_POLL,
        html="",
        summary="<p>Loslaten begint bij opmerken wat je vasthoudt. En dan [&hellip;]</p>"
        "<p>Het bericht Loslaten verscheen eerst op Gerrit.</p>",
    )
    feed_server.routes["/feed/"] = Route(wordpress_rss([item]))
    settings = _settings(feed_server.url("/feed/"))
    poll_feeds(database, settings, FIRST_POLL)
    document = _documents(database)["loslaten-deel-3"]
    assert document["summary_only"] is True
    assert document["blocks"] == [
        {"type": "paragraph", "text": "Loslaten begint bij opmerken wat je vasthoudt. En dan …"}
    ]
    rendered = render_edition(_post(database, "loslaten-deel-3"), settings.newsletter)
    assert rendered.excerpt
    assert "Lees verder op de blog" in rendered.html and "Lees verder op de blog" in rendered.text
    assert item.link in rendered.html


def test_new_posts_go_before_the_back_catalogue(
    database: Database, feed_server: FeedServer
) -> None:
    """Years of old posts are in the feed when it is added; a new post still goes next."""
    old = [_item(n, FIRST_POLL - timedelta(days=400 - n)) for n in (1, 2, 3)]
    feed_server.routes["/feed/"] = Route(wordpress_rss(old))
    settings = _settings(feed_server.url("/feed/"))
    poll_feeds(database, settings, FIRST_POLL)
    later = FIRST_POLL + timedelta(days=10)
    newest = [_item(5, later + timedelta(days=1)), _item(4, later)]
    feed_server.routes["/feed/"] = Route(wordpress_rss([*newest, *old]))
    poll_feeds(database, settings, later + timedelta(days=2))
    assert [slug for slug, _ in _queue(database)] == [
        "loslaten-deel-4",
        "loslaten-deel-5",
        "loslaten-deel-1",
        "loslaten-deel-2",
        "loslaten-deel-3",
    ]
    with database.session() as session:
        assert (next_post := post_queue.next_unsent(session)) is not None
        assert next_post.slug == "loslaten-deel-4"
        # An explicit position still wins over everything.
        post_queue.move_before(session, "loslaten-deel-2", "loslaten-deel-4")
        assert (next_post := post_queue.next_unsent(session)) is not None
        assert next_post.slug == "loslaten-deel-2"


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_feed_is_read_and_only_gzip_or_deflate_is_asked_for(
    database: Database, feed_server: FeedServer, encoding: str
) -> None:
    body = wordpress_rss([_item(1, FIRST_POLL)])
    packed = gzip.compress(body) if encoding == "gzip" else zlib.compress(body)
    feed_server.routes["/feed/"] = Route(packed, headers={"Content-Encoding": encoding})

    [report] = poll_feeds(database, _settings(feed_server.url("/feed/")), FIRST_POLL)

    assert (report.added, report.error) == (1, None)
    [request] = feed_server.requests_to("/feed/")
    assert request.headers["Accept-Encoding"] == "gzip, deflate"


BROKEN = {
    "404": (Route(b"weg", status=404), "HTTP 404"),
    "500": (Route(b"oeps", status=500), "HTTP 500"),
    "timeout": (Route(wordpress_rss([]), pause_seconds=30), "no answer within 0.5 seconds"),
    "malformed": (Route(MALFORMED), "not well-formed XML"),
    "20 MB": (Route(chunks(20 * 1024 * 1024)), "larger than"),
    "XML bomb": (Route(XML_BOMB), "declares its own XML entities"),
    "HTML page": (Route(b"<html><body>Onderhoud</body></html>", content_type="text/html"),
                  "not an RSS or Atom feed"),
    "gzip of gzip": (Route(gzip.compress(gzip.compress(wordpress_rss([]))),
                           headers={"Content-Encoding": "gzip, gzip"}),
                     "Content-Encoding 'gzip, gzip' is refused"),
    "unasked encoding": (Route(wordpress_rss([]), headers={"Content-Encoding": "br"}),
                         "Content-Encoding 'br' is refused"),
    "damaged gzip": (Route(b"geen gzip", headers={"Content-Encoding": "gzip"}),
                     "compressed body is damaged"),
}  # fmt: skip


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_a_broken_feed_is_reported_and_leaves_the_queue_as_it_was(
    database: Database, feed_server: FeedServer, case: str
) -> None:
    route, message = BROKEN[case]
    feed_server.routes["/good/"] = Route(wordpress_rss([_item(1, FIRST_POLL)]))
    settings = _settings(feed_server.url("/good/"), timeout=0.5)
    poll_feeds(database, settings, FIRST_POLL)
    before = _documents(database)

    feed_server.routes["/broken/"] = route
    feed_server.routes["/good/"] = Route(
        wordpress_rss([_item(1, FIRST_POLL), _item(2, FIRST_POLL + timedelta(hours=1))])
    )
    both = replace(
        settings,
        posts=replace(settings.posts, feeds=(feed_server.url("/broken/"), *settings.posts.feeds)),
    )
    later = FIRST_POLL + timedelta(hours=2)
    broken, good = poll_feeds(database, both, later)

    assert broken.error is not None and message in broken.error
    assert broken.error.startswith(feed_server.url("/broken/"))
    assert "\n" not in broken.error
    assert good.added == 1  # the other feed was handled all the same
    documents = _documents(database)
    assert {slug: documents[slug] for slug in before} == before
    assert set(documents) == {"loslaten-deel-1", "loslaten-deel-2"}
    with database.session() as session:
        feed = session.scalars(select(Feed).where(Feed.url == broken.url)).one()
        assert feed.failing_since == later and feed.last_error == broken.error
