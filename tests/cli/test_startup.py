"""``newsletter`` starts at once: a command imports only what it runs.

The timings are measured by ``bench/cli_startup.py``; these tests guard the behaviour
behind them, so a heavy import that creeps back into the start-up path fails here.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from newsletter.cli import COMMANDS, cli
from tests.support.cli import NewsletterCli

HEAVY = ("sqlalchemy", "alembic", "aiosmtplib", "dns", "httpx", "jinja2", "premailer", "rich")


def test_help_imports_no_command_and_no_heavy_library() -> None:
    script = (
        "import sys\n"
        "from newsletter.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sys.modules), file=sys.stderr)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "Commands:" in run.stdout
    loaded = {name.split(".")[0] for name in run.stderr.split()}
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
    commands = {name for name in run.stderr.split() if name.startswith("newsletter.cli.")}
    assert commands == {"newsletter.cli.context"}


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
