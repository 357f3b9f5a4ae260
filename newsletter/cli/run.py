"""``newsletter run``: the daemon, ``--once`` for cron, ``--demo``."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from datetime import UTC, datetime

import click

from newsletter.cli.context import AppContext, pass_app
from newsletter.runtime.daemon import Daemon, configure_logging
from newsletter.runtime.demo import demo_settings, run_demo_edition
from newsletter.runtime.jobs import run_once
from newsletter.runtime.presence import daemon_presence
from newsletter.runtime.servers import ensure_web_port_free

log = logging.getLogger(__name__)


@click.command()
@click.option("--once", is_flag=True, help="Run the due weekly job and any due retries, then exit.")
@click.option(
    "--demo",
    is_flag=True,
    help="Local demo: example posts, a demo reader, this week's edition sent to the outbox now.",
)
@click.option(
    "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@pass_app
def run(app: AppContext, once: bool, demo: bool, log_format: str) -> None:
    """Send one edition every week on schedule, serve the web pages, retry what is due."""
    configure_logging(log_format)
    settings = demo_settings(app.settings) if demo else app.settings
    settings.signing_key()  # fail now, not at the first edition
    database = app.database
    if once:
        outcome = run_once(database, settings)
        click.echo(f"week {outcome.week_key or '-'}: {outcome.action} {outcome.detail}".rstrip())
        return
    with daemon_presence(database):
        ensure_web_port_free(settings)
        if demo:
            result = run_demo_edition(database, settings, datetime.now(UTC))
            click.echo(f"demo: edition {result.outcome.edition_id} {result.outcome.action}")
            click.echo(f"demo: the email to {result.reader} is in {result.outbox}/new/")
            click.echo(f"demo: unsubscribe link: {result.unsubscribe_url}")
        daemon = Daemon(settings, database)
        asyncio.run(daemon.serve())
    if any(t.is_alive() for t in threading.enumerate() if t is not threading.main_thread()):
        # A send still stuck in its worker thread after the stop deadline (a hanging relay):
        # what it claimed is taken back at the next start (same host, process gone).
        sys.stdout.flush()
        logging.shutdown()
        os._exit(0)
