"""Fetching a feed over HTTP: timeouts, a size limit, conditional GET and a named User-Agent.

The one place the package reads a URL (``posts import URL``, ``posts fetch``, the daemon's
polls and the doctor all come here). A blog host sees who polls it (the User-Agent names
the project) and, with the validators of the last good response (``ETag``,
``Last-Modified``), can answer "304 Not Modified" instead of sending the feed again. A feed
that is too large, too slow or not there is one :class:`ContentError` line naming the URL.

The body is decompressed here, not by httpx, in steps that never go past the size limit:
httpx inflates a whole network chunk at once, so 64 KB of gzip became 64 MB before the
limit was counted, and it unpacked ``Content-Encoding: gzip, gzip`` twice (2 KB on the
wire, gigabytes in memory). Only what we ask for is read: gzip or deflate, once.

A private feed's password (``https://user:password@host/feed/``) travels as a Basic auth
header, never in the URL httpx logs and quotes in its errors; the URL in our own errors
has it hidden (:func:`newsletter.config.hide_password`).
"""

from __future__ import annotations

import ssl
import time
import zlib
from dataclasses import dataclass
from functools import cache

import httpx

from newsletter import __version__
from newsletter.config import hide_password
from newsletter.errors import ContentError

USER_AGENT = f"newsletter/{__version__} (feed reader of a weekly newsletter)"
CONNECT_TIMEOUT_SECONDS = 10.0
# Between two bytes, and for the whole response: a server dripping one byte a second must
# not hold a poll (and the weekly edition waiting behind it) for hours.
READ_TIMEOUT_SECONDS = 20.0
TOTAL_SECONDS = 60.0
MAX_FEED_BYTES = 20 * 1024 * 1024
MAX_REDIRECTS = 5
ACCEPT_ENCODING = "gzip, deflate"
_STEP_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Fetched:
    """A response worth reading (``body``), or ``body is None`` for "not modified"."""

    body: bytes | None
    etag: str | None
    last_modified: str | None


def fetch_feed(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = MAX_FEED_BYTES,
    total_seconds: float = TOTAL_SECONDS,
    read_timeout: float = READ_TIMEOUT_SECONDS,
) -> Fetched:
    """GET ``url`` (conditionally when validators are given); raise ContentError on failure."""
    source = hide_password(url)
    headers = {"User-Agent": USER_AGENT, "Accept": _ACCEPT, "Accept-Encoding": ACCEPT_ENCODING}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    timeout = httpx.Timeout(read_timeout, connect=CONNECT_TIMEOUT_SECONDS)
    deadline = time.monotonic() + total_seconds
    try:
        address = httpx.URL(url)
        auth = httpx.BasicAuth(address.username, address.password) if address.userinfo else None
        with (
            httpx.Client(
                timeout=timeout,
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                verify=_certificates(),
            ) as client,
            client.stream(
                "GET", address.copy_with(userinfo=b""), headers=headers, auth=auth
            ) as response,
        ):
            if response.status_code == 304:
                return Fetched(None, etag, last_modified)
            if response.status_code != 200:
                raise ContentError(
                    f"cannot fetch the feed: HTTP {response.status_code} "
                    f"{response.reason_phrase}".rstrip(),
                    source=source,
                )
            body = _read_limited(response, source, max_bytes, deadline)
            return Fetched(
                body, response.headers.get("ETag"), response.headers.get("Last-Modified")
            )
    except httpx.TimeoutException:
        raise ContentError(
            f"cannot fetch the feed: no answer within {read_timeout:g} seconds", source=source
        ) from None
    except httpx.TooManyRedirects:
        raise ContentError(
            f"cannot fetch the feed: more than {MAX_REDIRECTS} redirects", source=source
        ) from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise ContentError(
            f"cannot fetch the feed: {hide_password(str(exc)) or type(exc).__name__}",
            source=source,
        ) from None


_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)


@cache
def _certificates() -> ssl.SSLContext:
    """The TLS context every fetch shares (httpx's default, built once): httpx builds one
    per client, loading the CA bundle again, 0.14 s each time, paid on every poll."""
    return httpx.create_ssl_context()


def _read_limited(response: httpx.Response, source: str, max_bytes: int, deadline: float) -> bytes:
    """The body, decompressed; at most ``max_bytes`` of it are ever held, whatever it packs."""
    too_big = ContentError(f"the feed is larger than {max_bytes} bytes", source=source)
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_big
    inflate = _decompressor(response, source)
    body = bytearray()
    try:
        for raw in response.iter_raw():
            if time.monotonic() > deadline:
                raise ContentError(
                    "cannot fetch the feed: it took longer than the time allowed", source=source
                )
            if inflate is None:
                body += raw
            # Each step unpacks at most a megabyte, and no more than the limit leaves plus
            # the byte that tells it is exceeded (max_length 0 would mean no bound: it is
            # at least 1 here); the input a step did not take waits in unconsumed_tail.
            while inflate is not None and raw and len(body) <= max_bytes:
                body += inflate.decompress(raw, min(_STEP_BYTES, max_bytes + 1 - len(body)))
                raw = inflate.unconsumed_tail
            if len(body) > max_bytes:
                raise too_big
        if inflate is not None:
            body += inflate.flush()  # what the last bounded step held back: a few bytes
    except zlib.error as exc:
        raise ContentError(
            f"cannot fetch the feed: its compressed body is damaged ({exc})", source=source
        ) from None
    if len(body) > max_bytes:
        raise too_big
    return bytes(body)


def _decompressor(response: httpx.Response, source: str) -> zlib._Decompress | None:
    """The one decompression ``ACCEPT_ENCODING`` allows, or None for a plain body.

    Stacked (``gzip, gzip``) or other encodings are refused: we never asked for them.
    """
    codings = [
        coding.strip().lower()
        for coding in response.headers.get_list("Content-Encoding", split_commas=True)
    ]
    codings = [coding for coding in codings if coding not in ("", "identity")]
    if not codings:
        return None
    if len(codings) == 1 and codings[0] in ("gzip", "deflate"):
        # 32 + MAX_WBITS: zlib reads the gzip or the zlib header (HTTP's "deflate") itself.
        return zlib.decompressobj(32 + zlib.MAX_WBITS)
    named = ", ".join(codings)[:60]
    raise ContentError(
        f"cannot fetch the feed: Content-Encoding {named!r} is refused: "
        f"only one of {ACCEPT_ENCODING} is asked for",
        source=source,
    )
