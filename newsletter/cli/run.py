"""``newsletter run`` (the daemon, ``--once`` for cron, ``--demo``) and ``newsletter status``."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from datetime import UTC, datetime

import click

from newsletter.cli.context import AppContext, pass_app
from newsletter.cli.output import print_json
from newsletter.runtime.daemon import Daemon, configure_logging
from newsletter.runtime.demo import demo_settings, run_demo_edition
from newsletter.runtime.presence import daemon_presence
from newsletter.runtime.servers import ensure_web_port_free
from newsletter.runtime.status import collect_status
from newsletter.scheduling.jobs import run_once

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


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as a JSON object.")
@pass_app
def status(app: AppContext, as_json: bool) -> None:
    """Next scheduled send, queue, current edition, retry backlog, running daemons."""
    info = collect_status(app.database, app.settings, datetime.now(UTC))
    if as_json:
        print_json(info)
        return
    nxt, queue_info, edition = info["next_run"], info["queue"], info["edition"]
    click.echo(f"next edition: {nxt['local']} ({nxt['timezone']}), {nxt['utc']} UTC")
    click.echo(
        f"queue: {queue_info['queued']} queued, {queue_info['skipped']} skipped, "
        f"{queue_info['sent']} sent; next: {queue_info['next'] or 'none (import posts)'}"
    )
    if edition is None:
        click.echo("editions: none yet")
    else:
        counts = ", ".join(f"{k} {v}" for k, v in edition["counts"].items())
        click.echo(
            f"last edition: {edition['id']} {edition['post']} {edition['status']} ({counts})"
        )
        if edition["waiting"]:
            click.echo(f"last edition is {edition['waiting']['text']}")
    click.echo(f"deferred backlog: {info['deferred_backlog']}")
    click.echo(f"daemons running: {info['daemons_running']}")
    for feed in info["feeds"]:
        state = (
            "failing"
            if feed["failing_since"]
            else "ok"
            if feed["last_success_at"]
            else "not polled yet"
        )
        click.echo(f"feed {feed['url']}: {state}")
    for warning in info["warnings"]:
        click.echo(f"warning: {warning}")
