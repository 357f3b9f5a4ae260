"""``newsletter status``: the schedule, the queue, the last edition, the daemons.

A module of its own, not beside ``run``: this read-only summary must not load the daemon,
the delivery engine and the web app that ``run`` imports.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from newsletter.cli.context import AppContext, pass_app
from newsletter.cli.output import print_json
from newsletter.runtime.status import collect_status


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
    readers = info["readers"]
    click.echo(
        f"readers: {readers['receiving']} receiving, {readers['paused']} paused, "
        f"{readers['without_consent_evidence']} without proof of consent"
    )
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
