"""The network doors of a running process: the web app (uvicorn) and the inbound listener.

``newsletter run`` serves them next to the scheduler, ``newsletter web`` on their own; both
start them here, so the two processes serve the same thing the same way.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator

import uvicorn

from newsletter.config import Settings
from newsletter.db.database import Database
from newsletter.errors import ConfigError
from newsletter.inbound.listener import InboundController, build_inbound_controller
from newsletter.web import create_app


class _WebServer(uvicorn.Server):
    """Signals belong to the daemon, which stops the web server itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


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
    return uvicorn.Server(config) if own_signals else _WebServer(config)


@contextlib.contextmanager
def inbound_listener(settings: Settings, database: Database) -> Iterator[InboundController | None]:
    """The ``[inbound]`` listener while the block runs; None when it is not enabled."""
    if not settings.inbound.enabled:
        yield None
        return
    listener = build_inbound_controller(settings, database)
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
