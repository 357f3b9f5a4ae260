"""``fetch_feed``, the one place the package reads a URL, against a real HTTP server.

What a blog host sees (a named User-Agent, conditional GETs) and what a bad answer becomes
(one ContentError naming the URL, its password hidden).
"""

from __future__ import annotations

import base64
import gzip
import ssl

import pytest

from newsletter.errors import ContentError
from newsletter.feeds.fetch import USER_AGENT, fetch_feed
from tests.support.feeds import FEED_PASSWORD, FeedServer, Route, chunks, with_password

BODY = b"<rss version='2.0'><channel><title>Blog</title></channel></rss>"


def test_a_feed_is_read_with_its_validators_and_a_named_user_agent(
    feed_server: FeedServer,
) -> None:
    feed_server.routes["/feed/"] = Route(BODY, etag='"v1"', last_modified="Mon, 30 Nov 2026")
    fetched = fetch_feed(feed_server.url("/feed/"))
    assert (fetched.body, fetched.etag, fetched.last_modified) == (
        BODY,
        '"v1"',
        "Mon, 30 Nov 2026",
    )
    (request,) = feed_server.requests_to("/feed/")
    assert request.headers["User-Agent"] == USER_AGENT
    assert "If-None-Match" not in request.headers


def test_an_unchanged_feed_is_not_sent_again(feed_server: FeedServer) -> None:
    feed_server.routes["/feed/"] = Route(BODY, etag='"v1"')
    fetched = fetch_feed(feed_server.url("/feed/"), etag='"v1"', last_modified="gisteren")
    assert (fetched.body, fetched.etag, fetched.last_modified) == (None, '"v1"', "gisteren")
    (request,) = feed_server.requests_to("/feed/")
    assert request.headers["If-None-Match"] == '"v1"'
    assert request.headers["If-Modified-Since"] == "gisteren"


def test_a_gzipped_feed_is_unpacked_once(feed_server: FeedServer) -> None:
    feed_server.routes["/feed/"] = Route(gzip.compress(BODY), headers={"Content-Encoding": "gzip"})
    assert fetch_feed(feed_server.url("/feed/")).body == BODY


@pytest.mark.parametrize(
    ("route", "message"),
    [
        (Route(b"weg", status=410), "cannot fetch the feed: HTTP 410 Gone"),
        (Route(b"x" * 2000), "the feed is larger than 1000 bytes"),
        (Route(chunks(4000, size=500)), "the feed is larger than 1000 bytes"),
        (
            Route(b"not gzip", headers={"Content-Encoding": "gzip"}),
            "cannot fetch the feed: its compressed body is damaged",
        ),
    ],
    ids=["gone", "too-large", "too-large-chunked", "damaged-gzip"],
)
def test_a_bad_answer_is_one_error_naming_the_url(
    feed_server: FeedServer, route: Route, message: str
) -> None:
    feed_server.routes["/feed/"] = route
    url = feed_server.url("/feed/")
    with pytest.raises(ContentError) as raised:
        fetch_feed(url, max_bytes=1000)
    assert str(raised.value).startswith(f"{url}: {message}")


def test_a_private_feeds_password_goes_in_a_header_never_in_an_error(
    feed_server: FeedServer,
) -> None:
    feed_server.routes["/feed/"] = Route(BODY)
    feed_server.routes["/weg/"] = Route(b"", status=404)
    assert fetch_feed(with_password(feed_server.url("/feed/"))).body == BODY
    (request,) = feed_server.requests_to("/feed/")
    credentials = base64.b64encode(f"gerrit:{FEED_PASSWORD}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {credentials}"
    with pytest.raises(ContentError) as raised:
        fetch_feed(with_password(feed_server.url("/weg/")))
    assert FEED_PASSWORD not in str(raised.value)
    assert "HTTP 404" in str(raised.value)


def test_an_https_feed_with_a_certificate_no_authority_vouches_for_is_refused_every_time(
    server_tls: ssl.SSLContext,
) -> None:
    """The TLS context shared by every fetch keeps verifying: the second fetch is refused
    like the first (the test CA is trusted by nobody but the test's own relay clients)."""
    server = FeedServer(tls=server_tls).start()
    try:
        server.routes["/feed/"] = Route(BODY)
        for _ in range(2):
            with pytest.raises(ContentError, match="CERTIFICATE_VERIFY_FAILED"):
                fetch_feed(server.url("/feed/"))
        assert server.requests_to("/feed/") == []
    finally:
        server.stop()
