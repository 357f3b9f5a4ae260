"""``newsletter subscribers``: the admin's door onto the subscriber list."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import TextIO

import click

from newsletter.cli.context import AppContext, pass_app
from newsletter.cli.output import print_json, print_json_stream, print_table
from newsletter.db import subscribers as subscriber_list
from newsletter.db.models import SubscriberStatus
from newsletter.db.subscriber_import import RowProblem, import_csv, spreadsheet_safe

EXPORT_COLUMNS = (
    "email",
    "name",
    "status",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
    "unsubscribe_source",
    "paused_until",
    "consent_recorded",
    "consent_source",
    "consent_file",
    "signed_up_at",
    "consent_ip",
    "consent_user_agent",
    "consent_form_hash",
)


@click.group()
def subscribers() -> None:
    """Add, remove, list, import and export subscribers."""


@subscribers.command("add")
@click.argument("email")
@click.option("--name", help="The subscriber's name, used in the greeting.")
@click.option(
    "--resubscribe",
    is_flag=True,
    help="Re-activate someone who unsubscribed or was erased (only when they asked).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the subscriber as JSON.")
@pass_app
def add(app: AppContext, email: str, name: str | None, resubscribe: bool, as_json: bool) -> None:
    """Add EMAIL as an active subscriber (idempotent)."""
    with app.database.session() as session:
        outcome, record = subscriber_list.add(session, email, name, resubscribe=resubscribe)
    if as_json:
        print_json({**record.to_json(), "outcome": outcome})
    else:
        click.echo(f"{record.email}: {outcome}")


@subscribers.command("remove")
@click.argument("email")
@click.option(
    "--forget",
    is_flag=True,
    help="Also erase the address and name (GDPR); a salted hash keeps imports from re-adding it.",
)
@pass_app
def remove(app: AppContext, email: str, forget: bool) -> None:
    """Unsubscribe EMAIL (source: admin)."""
    with app.database.session() as session:
        record = subscriber_list.remove(session, email, forget=forget)
    address = subscriber_list.normalise_address(email)
    click.echo(f"{address}: {'unsubscribed and erased' if forget else record.status}")


@subscribers.command("show")
@click.argument("email")
@click.option("--json", "as_json", is_flag=True, help="The subscriber as a JSON object.")
@pass_app
def show(app: AppContext, email: str, as_json: bool) -> None:
    """One subscriber and the proof of their consent; for a bounced reader, the report
    that dropped them."""
    from newsletter.returns.report import what_dropped  # only this command needs it

    with app.database.session() as session:
        subscriber = subscriber_list.get(session, email)
        record = subscriber_list.SubscriberRecord.of(subscriber)
        dropped = what_dropped(session, subscriber.id) if record.status == "bounced" else None
    if as_json:
        print_json({**record.to_json(), "dropped_by": dropped.to_json() if dropped else None})
        return
    for label, value in record.to_json().items():
        click.echo(f"{label:<20}{'' if value is None else value}")
    if dropped is not None:
        click.echo("dropped by:")
        for label, value in dropped.to_json().items():
            click.echo(f"  {label:<18}{'' if value in (None, '') else value}")
    for line in _consent_lines(record):
        click.echo(line)


def _consent_lines(record: subscriber_list.SubscriberRecord) -> list[str]:
    """The proof of consent in words, after the fields: how the reader came, and a mark
    when there is no evidence of their yes."""
    evidence = record.consent
    how = {"form": "the sign-up form", "api": "the sign-up API", "cli": "the CLI (admin)"}
    came = (
        f"an import of {evidence.file or 'a file'}"
        if evidence.source == "import"
        else how.get(evidence.source or "", "unknown (before consent was recorded)")
    )
    lines = [f"consent: came through {came}"]
    if not evidence.recorded:
        lines.append("consent: NO EVIDENCE on record (no sign-up moment)")
    return lines


@subscribers.command("reactivate")
@click.argument("email")
@pass_app
def reactivate(app: AppContext, email: str) -> None:
    """Make a reader who was dropped as bounced by mistake active again.

    Readers who complained or unsubscribed are never brought back this way.
    """
    with app.database.session() as session:
        record = subscriber_list.reactivate(session, email, actor="cli")
    click.echo(f"{record.email}: {record.status}")


@subscribers.command("list")
@click.option(
    "--status", type=click.Choice([s.value for s in SubscriberStatus]), help="Only this status."
)
@click.option("--json", "as_json", is_flag=True, help="A JSON array of subscriber objects.")
@pass_app
def list_(app: AppContext, status: str | None, as_json: bool) -> None:
    """List subscribers, oldest first."""
    with app.database.session() as session:
        records = subscriber_list.iterate(session, status)
        if as_json:
            print_json_stream(record.to_json() for record in records)
        else:
            print_table(
                ("email", "name", "status", "since"),
                ((r.email, r.name, r.status, r.created_at.strftime("%Y-%m-%d")) for r in records),
            )


@subscribers.command("count")
@click.option("--json", "as_json", is_flag=True, help="Counts as a JSON object.")
@pass_app
def count(app: AppContext, as_json: bool) -> None:
    """Count subscribers per status."""
    with app.database.session() as session:
        counts = subscriber_list.count_by_status(session)
    if as_json:
        print_json({**counts, "total": sum(counts.values())})
        return
    for status, number in counts.items():
        click.echo(f"{status:<13}{number:>9}")
    click.echo(f"{'total':<13}{sum(counts.values()):>9}")


@subscribers.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig", errors="strict", lazy=False))
@click.option("--dry-run", is_flag=True, help="Check and count, write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_app
def import_(app: AppContext, file: TextIO, dry_run: bool, as_json: bool) -> None:
    """Import subscribers from a CSV file with an email (and optional name, status) column.

    Invalid rows are reported with their line number and skipped. Unsubscribed, bounced
    and erased addresses are never re-activated.
    """

    def report(problem: RowProblem) -> None:
        click.echo(f"line {problem.line}: {problem.message}", err=True)

    with app.database.session(dry_run=dry_run) as session:
        summary = import_csv(session, file, report=report, file_name=Path(file.name).name)
    if as_json:
        print_json({**summary.to_json(), "dry_run": dry_run})
        return
    prefix = "dry run, nothing written: " if dry_run else ""
    click.echo(
        f"{prefix}added {summary.added}, updated {summary.updated}, "
        f"skipped {summary.skipped}, invalid {summary.invalid}"
    )


@subscribers.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@pass_app
def export(app: AppContext, fmt: str) -> None:
    """Write every subscriber (with an address) to stdout; re-importable with `import`.

    In the CSV a value that a spreadsheet would run as a formula (it starts with = + - @)
    starts with an apostrophe; `import` takes it off again. The JSON is exact.
    """
    with app.database.session() as session:
        records = (record.to_json() for record in subscriber_list.iterate(session))
        if fmt == "json":
            print_json_stream(records)
            return
        writer = csv.DictWriter(
            sys.stdout, EXPORT_COLUMNS, extrasaction="ignore", lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(
            {
                key: spreadsheet_safe(value) if isinstance(value, str) else value
                for key, value in record.items()
            }
            for record in records
        )
