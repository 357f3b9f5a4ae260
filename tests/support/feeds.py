"""A real HTTP server on loopback that serves feeds, good and broken, and records requests.

Each route is a :class:`Route`: a body (or a generator of chunks, sent without a length),
a status, optional ETag/Last-Modified validators it honours with 304, more headers (a
``Content-Encoding``, say) and an optional pause before answering (a blog that does not
answer). Tests change routes between polls
to play a blog whose author edits and publishes.
"""

from __future__ import annotations

import ssl
import struct
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape


@dataclass
class Route:
    body: bytes | Callable[[], Iterable[bytes]] = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=UTF-8"
    etag: str | None = None
    last_modified: str | None = None
    pause_seconds: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    path: str
    headers: dict[str, str]


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up (httpx closing a kept-alive connection, a fetch that stops
    at its limit) is no error of the server's: socketserver would print a traceback to
    ``sys.stderr``, which an in-process CLI run captures as part of its own output."""

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


@dataclass
class FeedServer:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    tls: ssl.SSLContext | None = None  # serve https with this context

    def __post_init__(self) -> None:
        self._release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append(Request(self.path, dict(self.headers.items())))
                route = server.routes.get(self.path)
                if route is None:
                    self._answer(404, b"niet gevonden", "text/plain")
                    return
                if route.pause_seconds:
                    server._release.wait(route.pause_seconds)
                if (route.etag and self.headers.get("If-None-Match") == route.etag) or (
                    route.last_modified
                    and self.headers.get("If-Modified-Since") == route.last_modified
                ):
                    self._answer(304, b"", route.content_type, route)
                    return
                if callable(route.body):
                    self.send_response(route.status)
                    self.send_header("Content-Type", route.content_type)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    try:
                        for chunk in route.body():
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.write(b"0\r\n\r\n")
                    except (BrokenPipeError, ConnectionResetError):
                        pass  # the client stopped reading: that is the point
                    return
                self._answer(route.status, route.body, route.content_type, route)

            def _answer(
                self, status: int, body: bytes, content_type: str, route: Route | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                if route is not None and route.etag:
                    self.send_header("ETag", route.etag)
                if route is not None and route.last_modified:
                    self.send_header("Last-Modified", route.last_modified)
                for name, value in route.headers.items() if route is not None else ():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()  # a paused route answers now, so shutdown does not wait on it
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}{path}"

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


@dataclass(frozen=True)
class Item:
    """One blog post as a WordPress feed shows it."""

    title: str
    link: str
    guid: str
    published: datetime
    html: str
    category: str = "Loslaten"
    # The excerpt (``<description>``); "" is WordPress's own, the title and "[…]"; None: none.
    summary: str | None = ""


def wordpress_rss(items: Iterable[Item], *, title: str = "Gerrit van der Heide") -> bytes:
    """An RSS 2.0 document the way WordPress writes it (content:encoded in CDATA)."""
    entries = "".join(
        f"""
    <item>
      <title>{escape(item.title)}</title>
      <link>{escape(item.link)}</link>
      <dc:creator><![CDATA[Gerrit]]></dc:creator>
      <pubDate>{format_datetime(item.published)}</pubDate>
      <category><![CDATA[{item.category}]]></category>
      <guid isPermaLink="false">{escape(item.guid)}</guid>
      {_description(item)}
      {f"<content:encoded><![CDATA[{item.html}]]></content:encoded>" if item.html else ""}
    </item>"""
        for item in items
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>{escape(title)}</title>
    <link>https://www.gerritvanderheide.com</link>
    <description>Loslaten, innerlijke rust en zelfcompassie</description>
    <language>nl-NL</language>{entries}
  </channel>
</rss>
""".encode()


def _description(item: Item) -> str:
    if item.summary is None:
        return ""
    return f"<description><![CDATA[{item.summary or item.title + ' [&#8230;]'}]]></description>"


def atom(items: Iterable[Item]) -> bytes:
    """An Atom 1.0 document (as Ghost or a static site generator writes it)."""
    entries = "".join(
        f"""
  <entry>
    <title>{escape(item.title)}</title>
    <link rel="alternate" href="{escape(item.link)}"/>
    <id>{escape(item.guid)}</id>
    <published>{item.published.isoformat()}</published>
    <updated>{item.published.isoformat()}</updated>
    <category term="{escape(item.category)}"/>
    <content type="html">{escape(item.html)}</content>
  </entry>"""
        for item in items
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Gerrit</title>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2026-11-30T10:00:00Z</updated>{entries}
</feed>
""".encode()


def post_html(opening: str, *, heading: str = "Waarom loslaten zo moeilijk voelt") -> str:
    """A post body with the blog's parts: paragraphs, a heading, a quote, a prompt, a list."""
    return (
        f"<p>{opening}</p>"
        "<p>Soms houd je vast aan iets wat allang voorbij is. Dat is menselijk.</p>"
        f"<h2>{heading}</h2>"
        "<p>Je hoofd wil zekerheid, en loslaten voelt als het opgeven daarvan.</p>"
        "<blockquote><p>Wat je loslaat, maakt ruimte voor wat komt.</p></blockquote>"
        "<p>💡 Schrijf vandaag één ding op dat je los wilt laten.</p>"
        "<ul><li>Adem drie keer rustig in en uit.</li><li>Merk op wat je voelt.</li></ul>"
        "<p>Het hoeft niet in één keer. Kleine stappen tellen ook.</p>"
    )


def chunks(total: int, size: int = 64 * 1024) -> Callable[[], Iterator[bytes]]:
    """A body of ``total`` bytes sent in chunks, without announcing its length."""

    def generate() -> Iterator[bytes]:
        yield b'<?xml version="1.0"?><rss version="2.0"><channel><title>groot</title>'
        sent = 0
        while sent < total:
            yield b"<!-- " + b"x" * (size - 9) + b" -->"
            sent += size

    return generate


def gzip_bomb(megabytes: int) -> bytes:
    """A valid gzip stream of ``megabytes`` MiB of zeros, a thousandth of that in size.

    Made in a second, not by packing a gigabyte: each megabyte ends in a full flush, so
    after the first every compressed megabyte is the same bytes and is repeated; an empty
    last block and the true CRC and length close it.
    """
    zeros = bytes(1024 * 1024)
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    first = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    again = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    last_block = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush()
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(zeros, crc)
    size = (megabytes * len(zeros)) & 0xFFFFFFFF
    return first + again * (megabytes - 1) + last_block + struct.pack("<II", crc, size)


def with_password(url: str) -> str:
    """``url`` with a user and password in it, as a private feed is configured."""
    return url.replace("://", f"://gerrit:{FEED_PASSWORD}@", 1)


FEED_PASSWORD = "geheim-7Xq"


def slow(seconds: float) -> Callable[[], Iterator[bytes]]:
    def generate() -> Iterator[bytes]:
        time.sleep(seconds)
        yield b""

    return generate


XML_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
<!ENTITY a "lollollollollollollollollollollollollollollollollollollollollollollollollollol">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
<!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
<!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<rss version="2.0"><channel><title>bom</title>
<item><title>Bom</title><link>https://blog.example.nl/bom/</link><description>&i;</description>
</item></channel></rss>
"""

MALFORMED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>kapot</title>
<item><title>Half</title><link>https://blog.example.nl/half/</link><description>tekst
"""
