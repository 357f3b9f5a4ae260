"""The ``newsletter`` command: a thin door that loads settings, calls the core, prints.

Errors the package raises on purpose become one line on stderr and a non-zero exit
(2 for configuration errors, like Click's own usage errors); nothing reaches the user
as a traceback.

Each command's module is imported only when that command runs: between them they load
SQLAlchemy, Alembic, the delivery engine, the web app and the DNS checks, which took
``newsletter --help`` two seconds. ``bench/cli_startup.py`` measures the start-up.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import Any, NamedTuple

import click

from newsletter import __version__
from newsletter.cli.context import AppContext
from newsletter.errors import NewsletterError


class _Entry(NamedTuple):
    target: str
    """``module:attribute`` of the command."""
    summary: str
    """The first paragraph of the command's help, for the list in ``newsletter --help``
    (a test keeps it equal to the command's own)."""


COMMANDS = {
    "bounces": _Entry(
        "newsletter.cli.bounces:bounces",
        "Bounces and complaints that came back after the relay accepted a message.",
    ),
    "check": _Entry(
        "newsletter.cli.preview:check",
        "Deliverability report for SLUG (default: the next post); exit 1 on a problem.",
    ),
    "db": _Entry("newsletter.cli.db:db", "Database schema: show the version, apply migrations."),
    "deliveries": _Entry(
        "newsletter.cli.editions:deliveries",
        "Who got edition N, who is waiting, and what the relay said.",
    ),
    "doctor": _Entry(
        "newsletter.cli.setup:doctor",
        "Check the set-up as mail providers will see it; exit 1 when a check fails.",
    ),
    "editions": _Entry(
        "newsletter.cli.editions:editions_group",
        "List, show and cancel editions (one send of one post).",
    ),
    "init": _Entry(
        "newsletter.cli.setup:init",
        "Ask a few questions and write a working set-up into DIRECTORY.",
    ),
    "posts": _Entry(
        "newsletter.cli.posts:posts", "Parse and import posts; show and change the send queue."
    ),
    "preview": _Entry(
        "newsletter.cli.preview:preview",
        "Write exactly what would be sent for SLUG (default: the next post).",
    ),
    "run": _Entry(
        "newsletter.cli.run:run",
        "Send one edition every week on schedule, serve the web pages, retry what is due.",
    ),
    "send": _Entry(
        "newsletter.cli.send:send",
        "Send post SLUG (or --next) to every active subscriber, or --resume edition N.",
    ),
    "status": _Entry(
        "newsletter.cli.status:status",
        "Next scheduled send, queue, current edition, retry backlog, running daemons.",
    ),
    "subscribers": _Entry(
        "newsletter.cli.subscribers:subscribers",
        "Add, remove, list, import and export subscribers.",
    ),
    "web": _Entry(
        "newsletter.cli.web:web", "Serve the readers' pages and the owner's area until Ctrl+C."
    ),
}
"""Every subcommand by name; its module is imported by :meth:`_LazyGroup.get_command`."""


class _LazyGroup(click.Group):
    """A group whose subcommands come from :data:`COMMANDS`, imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, _, attribute = entry.target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Click's own command list, drawn from stand-ins that carry only the summary."""
        stand_ins = [click.Command(name, help=entry.summary) for name, entry in COMMANDS.items()]
        click.Group(commands=stand_ins).format_commands(ctx, formatter)


class _FriendlyErrors(_LazyGroup):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsletterError as exc:
            _fail(str(exc), exc.exit_code)
        except BrokenPipeError:
            # The reader went away (`... | head`): stop quietly, as Unix tools do on SIGPIPE.
            # stdout is pointed at /dev/null so the interpreter's final flush cannot fail too.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.exceptions.Exit(141) from None
        except OSError as exc:  # a file or folder the user named (or the data dir) unusable
            _fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc), 1)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as exc:
            reason = _database_error(exc)
            if reason is None:
                raise
            _fail(f"database error: {reason}", 1)


def _database_error(exc: Exception) -> str | None:
    """The first line of a SQLAlchemy error's reason; None for any other error.

    SQLAlchemy is looked up, not imported: a command that never loaded it cannot have
    raised its errors, and importing it would cost every command (``--help`` too) the
    quarter of a second that SQLAlchemy takes to load.
    """
    errors = sys.modules.get("sqlalchemy.exc")
    if errors is None or not isinstance(exc, errors.SQLAlchemyError):
        return None
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    raise click.exceptions.Exit(code)


@click.group(cls=_FriendlyErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="NEWSLETTER_CONFIG",
    help="TOML config file (default: $NEWSLETTER_CONFIG, else built-in defaults).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log what happens (INFO level).")
@click.version_option(__version__, prog_name="newsletter")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """Gerrit's weekly newsletter: subscribers, posts, editions and sending."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
    ctx.obj = AppContext(config_path)
    ctx.call_on_close(ctx.obj.close)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="newsletter")
