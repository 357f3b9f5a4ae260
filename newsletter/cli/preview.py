"""``newsletter preview`` and ``newsletter check``: look at an edition before it goes out."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from newsletter.cli.context import AppContext, pass_app
from newsletter.delivery.publish import build_preview, deliverability_report


@click.command()
@click.argument("slug", required=False)
@click.option(
    "--format", "fmt", type=click.Choice(["html", "text", "eml"]), default="html", show_default=True
)
@click.option("--subscriber", metavar="EMAIL", help="Personalise for this subscriber.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here.")
@pass_app
def preview(
    app: AppContext, slug: str | None, fmt: str, subscriber: str | None, output: Path | None
) -> None:
    """Write exactly what would be sent for SLUG (default: the next post)."""
    with app.database.session() as session:
        result = build_preview(session, app.settings, slug, subscriber)
    if fmt == "eml":
        data = result.message
    else:
        html_part, text_part = result.parts()
        data = (html_part if fmt == "html" else text_part).encode()
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(data)
        click.echo(f"wrote {output} ({len(data):,} bytes)", err=True)


@click.command()
@click.argument("slug", required=False)
@pass_app
def check(app: AppContext, slug: str | None) -> None:
    """Deliverability report for SLUG (default: the next post); exit 1 on a problem."""
    with app.database.session() as session:
        result = build_preview(session, app.settings, slug)
    report = deliverability_report(result, app.settings.newsletter.signature)
    click.echo(f"{result.edition.subject} ({len(result.message):,} bytes)")
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        raise click.exceptions.Exit(1)
