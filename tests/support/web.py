"""The web app on a real uvicorn in a thread, as ``newsletter web`` runs it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from .system import wait_until


@contextmanager
def uvicorn_serving(app: Any, **tls: str) -> Iterator[int]:
    """Serve ``app`` on 127.0.0.1 on a port of its own (yielded) until the block ends;
    ``ssl_keyfile`` and ``ssl_certfile`` make it https."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_config=None, **tls)
    )
    with running(server) as port:
        yield port


@contextmanager
def running(server: uvicorn.Server) -> Iterator[int]:
    """Run a uvicorn server (one set up to listen on port 0) in a thread until the block
    ends; yields the port it got."""
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), timeout=10, what="uvicorn")
    if not server.started:
        raise RuntimeError("uvicorn did not start")
    try:
        yield int(server.servers[0].sockets[0].getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(10)
