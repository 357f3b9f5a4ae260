"""The real parts a simulated year runs against, in this process on loopback: the
database, a fault-injecting relay (stopped and started again on its port for an outage),
the blog's feed server, the inbound listener where returned mail arrives over SMTP, and
the web app behind uvicorn, which readers use through HTTP.

:class:`Wiring` is what a daemon process needs to build the same settings
(:func:`year_settings`), so the killed process of :mod:`.child` runs the same daemon.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime

import httpx

from newsletter.config import BouncesSection, Settings
from newsletter.db.database import Database, open_database
from newsletter.runtime.servers import inbound_listener
from newsletter.web.app import create_app
from tests.support.db import add_subscribers
from tests.support.feeds import FeedServer, Item, Route, post_html, wordpress_rss
from tests.support.returned import BOUNCES
from tests.support.settings import OWNER, make_settings, relay
from tests.support.smtp import Faults, SmtpServer
from tests.support.system import free_port
from tests.support.web import uvicorn_serving

READERS = 40  # at the start; one complaint passes the complaint alert's 0.3 %
LEASE_MINUTES = 10.0
FEED_PATH = "/feed/"


@dataclass(frozen=True)
class Wiring:
    """Where the parts listen: all a daemon process needs besides the code."""

    database_url: str
    relay_port: int
    feed_url: str
    listener_port: int

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Wiring:
        return cls(**json.loads(text))


def year_settings(wiring: Wiring) -> Settings:
    """The daemon of the year: the blog's feed, the relay, VERP returns to the listener,
    Monday 07:00 in Amsterdam, the owner told of what goes wrong."""
    return make_settings(
        newsletter={"owner_address": OWNER},
        database={"url": wiring.database_url},
        posts={"feeds": (wiring.feed_url,), "poll_minutes": 60, "fetch_timeout_seconds": 5.0},
        smtp=relay(wiring.relay_port, lease_minutes=LEASE_MINUTES, timeout=5.0),
        schedule={"cron": "mon 07:00", "timezone": "Europe/Amsterdam", "catch_up_hours": 24},
        inbound={"enabled": True, "port": wiring.listener_port},
        web={"trusted_proxies": ("127.0.0.1",)},
        bounces=BouncesSection(address=BOUNCES, suspect_minimum=READERS),
    )


class Blog:
    """The blog's feed: a post appears in it once the simulated clock passes its moment."""

    def __init__(self, server: FeedServer) -> None:
        self.server = server
        self.items: list[Item] = []
        server.routes[FEED_PATH] = Route(wordpress_rss([]))

    def publish_until(self, moments: list[datetime], now: datetime) -> int:
        """Put every planned post of ``moments`` published by ``now`` in the feed; how
        many were new."""
        due = [moment for moment in moments if moment <= now]
        new = due[len(self.items) :]
        for moment in new:
            n = len(self.items) + 1
            self.items.append(
                Item(
                    title=f"Stilte nummer {n}",
                    link=f"https://www.gerritvanderheide.com/stilte-{n}/",
                    guid=f"https://www.gerritvanderheide.com/?p={1000 + n}",
                    published=moment,
                    html=post_html(f"Dit is bericht {n} over rust vinden."),
                )
            )
        if new:
            self.server.routes[FEED_PATH] = Route(wordpress_rss(reversed(self.items)))
        return len(new)


class Relay:
    """The relay: one recording handler across outages, faults changed week by week."""

    def __init__(self) -> None:
        self.faults = Faults()
        self.server = SmtpServer(self.faults).start()
        self.handler = self.server.handler
        self.port = self.server.port
        self.down = False

    def set_down(self, down: bool) -> None:
        if down == self.down:
            return
        if down:
            self.server.stop()
        else:
            self.server = SmtpServer(port=self.port, handler=self.handler).start()
        self.down = down

    def stop(self) -> None:
        if not self.down:
            self.server.stop()


@dataclass
class World:
    wiring: Wiring
    settings: Settings
    database: Database
    relay: Relay
    blog: Blog
    web: httpx.Client


def tagged(database_url: str) -> str:
    """On PostgreSQL, the URL with an application name of this simulation's own: the
    database's restart ends exactly these connections, not those of other tests."""
    if not database_url.startswith("postgresql"):
        return database_url
    separator = "&" if "?" in database_url else "?"
    return f"{database_url}{separator}application_name=newsletter-year-{os.getpid()}"


@contextmanager
def running_world(database_url: str) -> Iterator[World]:
    """Every part started, :data:`READERS` readers on the list; all stopped afterwards."""
    with ExitStack() as stack:
        relay_ = Relay()
        stack.callback(relay_.stop)
        feeds = FeedServer().start()
        stack.callback(feeds.stop)
        wiring = Wiring(tagged(database_url), relay_.port, feeds.url(FEED_PATH), free_port())
        settings = year_settings(wiring)
        database = open_database(wiring.database_url)
        stack.callback(database.dispose)
        add_subscribers(database, READERS)
        stack.enter_context(inbound_listener(settings, database))
        port = stack.enter_context(uvicorn_serving(create_app(settings, database)))
        web = stack.enter_context(httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20))
        yield World(wiring, settings, database, relay_, Blog(feeds), web)
