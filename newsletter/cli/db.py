"""``newsletter db``: the schema's version and upgrades."""

from __future__ import annotations

import click

from newsletter.cli.context import AppContext, pass_app
from newsletter.db.database import current_revision, head_revision, make_engine, upgrade


@click.group()
def db() -> None:
    """Database schema: show the version, apply migrations."""


@db.command("upgrade")
@pass_app
def db_upgrade(app: AppContext) -> None:
    """Apply every pending migration (back up the database first)."""
    engine = make_engine(app.settings.database_url)
    try:
        before, after = upgrade(engine)
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"database already at the latest revision ({after})")
    else:
        click.echo(f"database upgraded from {before or 'empty'} to {after}")


@db.command("status")
@pass_app
def db_status(app: AppContext) -> None:
    """Show the database URL (without password) and its schema revision."""
    engine = make_engine(app.settings.database_url)
    try:
        current, head = current_revision(engine), head_revision(engine)
        click.echo(f"database: {engine.url.render_as_string()}")
    finally:
        engine.dispose()
    state = "up to date" if current == head else "run `newsletter db upgrade`"
    click.echo(f"revision: {current or 'none (empty database)'} (latest {head}; {state})")
