"""``newsletter editions`` and ``deliveries``: what the owner reads and changes of an edition.

Apart from ``send``: reading an edition must not load the delivery engine, the mail
builders and DNS that sending imports (at a million readers ``editions show`` spent more
CPU importing them than reading the edition; see bench/README.md, issue 25).
"""

from __future__ import annotations

import click

from newsletter.cli.context import AppContext, pass_app
from newsletter.cli.output import print_json, print_json_stream, print_table
from newsletter.db.models import DeliveryStatus, utcnow
from newsletter.db.states import lease_of
from newsletter.delivery import editions
from newsletter.returns.report import edition_returns


@click.group("editions")
def editions_group() -> None:
    """List, show and cancel editions (one send of one post)."""


@editions_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="A JSON array of edition objects.")
@pass_app
def list_editions(app: AppContext, as_json: bool) -> None:
    """Every edition, newest first, with delivery counts."""
    with app.database.session() as session:
        found = editions.list_editions(session)
    if as_json:
        print_json([info.to_json() for info in found])
        return
    print_table(
        ("id", "post", "status", "recipients", "sent", "deferred", "failed", "skipped", "created"),
        (
            (
                info.id,
                info.post_slug,
                info.status,
                info.recipients,
                info.counts.get("sent", 0),
                info.counts.get("deferred", 0),
                info.counts.get("failed", 0),
                info.counts.get("skipped", 0),
                info.created_at.strftime("%Y-%m-%d %H:%M"),
            )
            for info in found
        ),
    )


TOP_DOMAINS = 10  # the receiving domains `editions show` counts one by one


@editions_group.command("show")
@click.argument("edition_id", metavar="N", type=int)
@click.option("--json", "as_json", is_flag=True, help="The edition as a JSON object.")
@pass_app
def show_edition(app: AppContext, edition_id: int, as_json: bool) -> None:
    """One edition with its counts per delivery status."""
    with app.database.session() as session:
        info = editions.describe_edition(session, edition_id)
        due = editions.due_now(session, edition_id, utcnow(), lease_of(app.settings.smtp))
        returns = edition_returns(session, edition_id, top_domains=TOP_DOMAINS)
    waiting = editions.waiting_for_limits(app.database.engine, app.settings.smtp, info)
    if as_json:
        print_json(
            {
                **info.to_json(),
                "due_now": due,
                "waiting": waiting.to_json() if waiting else None,
                **returns.to_json(),
            }
        )
        return
    for label, value in info.to_json().items():
        if label not in ("counts", "tally"):
            shown = ", ".join(value) if isinstance(value, list) else value
            click.echo(f"{label:<12}{'' if shown is None else shown}")
    click.echo(f"{'due now':<12}{due}")
    if waiting is not None:
        click.echo(f"{'waiting':<12}{info.tally()['waiting']} messages, {waiting.describe()}")
    for status, number in info.counts.items():
        click.echo(f"  {status:<10}{number:>8}")
    click.echo(
        f"returns     {returns.hard} hard and {returns.soft} soft bounces, "
        f"{returns.suspect} held as suspect, {returns.sender} refused on our side, "
        f"{returns.complaints} complaints, {returns.unsubscribes} unsubscribes"
    )
    if returns.by_domain:
        columns = tuple(returns.by_domain[0].to_json())
        print_table(columns, (tuple(d.to_json().values()) for d in returns.by_domain))


@editions_group.command("release")
@click.argument("edition_id", metavar="N", type=int)
@pass_app
def release_edition(app: AppContext, edition_id: int) -> None:
    """Let held edition N go: the daemon sends it on its next run (or `send --resume N`)."""
    with app.database.session() as session:
        editions.release_edition(session, edition_id)
    click.echo(
        f"edition {edition_id} released; the daemon sends it on its next run, "
        f"or send it now with `newsletter send --resume {edition_id}`"
    )


@editions_group.command("cancel")
@click.argument("edition_id", metavar="N", type=int)
@pass_app
def cancel_edition(app: AppContext, edition_id: int) -> None:
    """Stop edition N: messages not yet sent are skipped; its post can be sent again."""
    with app.database.session() as session:
        skipped = editions.cancel_edition(session, edition_id)
    click.echo(f"edition {edition_id} cancelled; {skipped} unsent messages skipped")


@click.command("deliveries")
@click.argument("edition_id", metavar="N", type=int)
@click.option(
    "--status", type=click.Choice([s.value for s in DeliveryStatus]), help="Only this status."
)
@click.option("--json", "as_json", is_flag=True, help="A JSON array of delivery objects.")
@pass_app
def deliveries(app: AppContext, edition_id: int, status: str | None, as_json: bool) -> None:
    """Who got edition N, who is waiting, and what the relay said."""
    with app.database.session() as session:
        rows = editions.iterate_deliveries(session, edition_id, status)
        if as_json:
            print_json_stream(row.to_json() for row in rows)
            return
        print_table(
            ("email", "status", "attempts", "last reply"),
            ((row.email, row.status, row.attempts, row.last_reply) for row in rows),
        )
