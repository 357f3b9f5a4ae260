"""``newsletter web``: the subscriber pages (and the mailto listener) on their own.

``newsletter run`` serves the same app next to the scheduler; this command is for a
separate web process, or for trying the pages locally.
"""

from __future__ import annotations

import click
import uvicorn

from ..web import create_app
from ..web.inbound import build_inbound_controller
from ..web.mailer import RelayMailer
from .context import AppContext, pass_app


@click.command("web")
@click.option("--host", help="Address to listen on (default: web.host).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: web.port).")
@pass_app
def web(app: AppContext, host: str | None, port: int | None) -> None:
    """Serve the unsubscribe, sign-up and archive pages until Ctrl+C.

    With ``[inbound] enabled = true`` the mailto: unsubscribe listener runs as well.
    Behind a reverse proxy on this machine, the visitor's address is taken from
    X-Forwarded-For (uvicorn trusts 127.0.0.1 there; set FORWARDED_ALLOW_IPS otherwise).
    """
    settings = app.settings
    application = create_app(settings, app.database, mailer=RelayMailer(settings))
    inbound = None
    if settings.inbound.enabled:
        inbound = build_inbound_controller(settings, app.database)
        inbound.start()
        click.echo(
            f"mailto: unsubscribe listener on {settings.inbound.host}:{inbound.port}", err=True
        )
    try:
        uvicorn.run(
            application,
            host=host or settings.web.host,
            port=port or settings.web.port,
            proxy_headers=True,
            server_header=False,
            lifespan="off",
        )
    finally:
        if inbound is not None:
            inbound.stop()
