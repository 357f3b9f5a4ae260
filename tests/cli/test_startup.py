"""``newsletter`` starts at once: a command imports only what it runs.

The timings are measured by ``bench/cli_startup.py``; these tests guard the behaviour
behind them, so a heavy import that creeps back into the start-up path fails here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from newsletter.cli import COMMANDS, cli
from tests.support.cli import NOT_FOR_A_QUICK_COMMAND, NewsletterCli, imported_by

HEAVY = ("sqlalchemy", "alembic", "aiosmtplib", "dns", "httpx", "jinja2", "premailer", "rich")


def test_help_imports_no_command_and_no_heavy_library() -> None:
    stdout, modules = imported_by(["--help"])
    assert "Commands:" in stdout
    loaded = {name.split(".")[0] for name in modules}
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
    commands = {name for name in modules if name.startswith("newsletter.cli.")}
    assert commands == {"newsletter.cli.context"}


@pytest.mark.parametrize(
    "argv", [["subscribers", "add", "lezer@voorbeeld.nl"], ["status"]], ids=" ".join
)
def test_a_quick_command_loads_no_migrations_and_no_engine(argv: list[str], tmp_path: Path) -> None:
    """On a database at the latest revision: ``bench/cli_startup.py`` times these two."""
    url = f"sqlite:///{tmp_path}/newsletter.db"
    NewsletterCli(url, tmp_path).ok("db", "upgrade")
    stdout, modules = imported_by(argv, {"NEWSLETTER_DATABASE__URL": url})
    assert stdout
    loaded = {name.split(".")[0] for name in modules}
    assert loaded.isdisjoint(NOT_FOR_A_QUICK_COMMAND), sorted(loaded & set(NOT_FOR_A_QUICK_COMMAND))


@pytest.mark.parametrize("width", [60, 80, 200])
def test_the_command_list_in_help_is_what_the_commands_say(width: int) -> None:
    context = click.Context(cli)
    real = click.Group(commands=[cli.get_command(context, name) for name in COMMANDS])
    listed, expected = click.HelpFormatter(width=width), click.HelpFormatter(width=width)
    cli.format_commands(context, listed)
    real.format_commands(context, expected)
    assert listed.getvalue() == expected.getvalue()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_is_found_under_its_own_name(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None and command.name == name


def test_an_unknown_command_is_refused_as_before() -> None:
    result = CliRunner().invoke(cli, ["nonsense"])
    assert result.exit_code == 2
    assert "No such command 'nonsense'" in result.stderr


def test_a_database_error_is_still_one_line(tmp_path: Path) -> None:
    """SQLAlchemy is no longer imported by the group, yet its errors are still translated."""
    url = f"sqlite:///{tmp_path}/newsletter.db"
    newsletter = NewsletterCli(url, tmp_path)
    newsletter.ok("db", "upgrade")
    with sqlite3.connect(tmp_path / "newsletter.db") as connection:
        connection.execute("DROP TABLE subscribers")
    error = newsletter.fails("subscribers", "list")
    assert error == "error: database error: no such table: subscribers\n"
