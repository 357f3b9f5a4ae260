"""The network doors of a running process: the web app (uvicorn) and the inbound listener.

``newsletter run`` serves them next to the scheduler, ``newsletter web`` on their own; both
start them here, so the two processes serve the same thing the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.errors import ConfigError
from newsletter.returns.listener import InboundController, build_inbound_controller
from newsletter.web.app import create_app

log = logging.getLogger(__name__)

# What accept() fails with when the process (or the machine) is out of descriptors or memory.
_OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class _AcceptErrorLog:
    """A server's event-loop exception handler: a failed accept() is logged once a minute
    at most, in one line. asyncio logs each with a traceback and tries again every second,
    up to 100 times a try: out of descriptors, that was 108 MB of log in a minute. Other
    reports go to asyncio's own handler."""

    interval = 60.0

    def __init__(self, server: str) -> None:
        self.server = server
        self._logged_at: float | None = None
        self._since = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if not (isinstance(error, OSError) and error.errno in _OUT_OF_RESOURCES):
            loop.default_exception_handler(context)
            return
        now = time.monotonic()
        if self._logged_at is not None and now - self._logged_at < self.interval:
            self._since += 1
            return
        more = f" ({self._since} more since the last report)" if self._since else ""
        log.error("%s cannot accept connections: %s%s", self.server, error, more)
        self._logged_at, self._since = now, 0


class _WebServer(uvicorn.Server):
    """uvicorn with :class:`_AcceptErrorLog`; without its own signal handlers when a daemon
    handles SIGTERM and stops the web server itself."""

    def __init__(self, config: uvicorn.Config, *, own_signals: bool) -> None:
        super().__init__(config)
        self.own_signals = own_signals

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if self.own_signals:
            with super().capture_signals():
                yield
        else:
            yield

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        asyncio.get_running_loop().set_exception_handler(_AcceptErrorLog("the web server"))
        await super().serve(sockets)


def web_server(
    settings: Settings,
    database: Database,
    *,
    host: str | None = None,
    port: int | None = None,
    scheduler_alive: Callable[[], bool] | None = None,
    own_signals: bool = True,
) -> uvicorn.Server:
    """uvicorn serving the app; ``own_signals=False`` when a daemon handles SIGTERM itself.

    X-Forwarded-For (and -Proto) are read only from the proxies of ``web.trusted_proxies``:
    uvicorn's own default trusts loopback, where any local process, or a proxy that passes
    the header on, could name a new visitor for every sign-up and so pass the rate limit.
    """
    proxies = list(settings.web.trusted_proxies)
    config = uvicorn.Config(
        create_app(settings, database, scheduler_alive=scheduler_alive),
        host=host or settings.web.host,
        port=port or settings.web.port,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies,  # never None: uvicorn would read FORWARDED_ALLOW_IPS
        server_header=False,
        lifespan="off",
        log_config=None,
    )
    return _WebServer(config, own_signals=own_signals)


@contextlib.contextmanager
def inbound_listener(settings: Settings, database: Database) -> Iterator[InboundController | None]:
    """The ``[inbound]`` listener while the block runs; None when it is not enabled."""
    if not settings.inbound.enabled:
        yield None
        return
    listener = build_inbound_controller(settings, database)
    listener.loop.set_exception_handler(_AcceptErrorLog("the inbound listener"))
    listener.start()
    try:
        yield listener
    finally:
        listener.stop()


def ensure_web_port_free(settings: Settings) -> None:
    """Fail before any work is done, not after an edition went out with dead links."""
    host, port = settings.web.host, settings.web.port
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        raise ConfigError(
            f"web.port {port} on {host} is not available ({exc.strerror}); "
            "choose another with NEWSLETTER_WEB__PORT"
        ) from None
