"""``newsletter web``: the subscriber pages (and the mailto listener) on their own.

``newsletter run`` serves the same app next to the scheduler; this command is for a
separate web process, or for trying the pages locally.
"""

from __future__ import annotations

import contextlib

import click

from newsletter.cli.context import AppContext, pass_app
from newsletter.runtime.servers import inbound_listener, web_server


@click.command("web")
@click.option("--host", help="Address to listen on (default: web.host).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: web.port).")
@pass_app
def web(app: AppContext, host: str | None, port: int | None) -> None:
    """Serve the readers' pages and the owner's area until Ctrl+C.

    The readers' pages: sign-up, unsubscribe, the archive, and each reader's own page to
    manage their subscription (pause, address, name). The owner's area is at /beheer.

    With ``[inbound] enabled = true`` the mailto: unsubscribe listener runs as well.
    """
    settings = app.settings
    server = web_server(settings, app.database, host=host, port=port)
    with inbound_listener(settings, app.database) as inbound:
        if inbound is not None:
            click.echo(
                f"mailto: unsubscribe listener on {settings.inbound.host}:{inbound.port}", err=True
            )
        # uvicorn stops on Ctrl+C, then raises the signal again for the caller: done.
        with contextlib.suppress(KeyboardInterrupt):
            server.run()
