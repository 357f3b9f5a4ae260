"""The ``newsletter`` command: a thin door that loads settings, calls the core, prints.

Errors the package raises on purpose become one line on stderr and a non-zero exit
(2 for configuration errors, like Click's own usage errors); nothing reaches the user
as a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from newsletter import __version__
from newsletter.cli.bounces import bounces
from newsletter.cli.context import AppContext
from newsletter.cli.db import db
from newsletter.cli.posts import posts
from newsletter.cli.preview import check, preview
from newsletter.cli.run import run, status
from newsletter.cli.send import deliveries, editions_group, send
from newsletter.cli.setup import doctor, init
from newsletter.cli.subscribers import subscribers
from newsletter.cli.web import web
from newsletter.errors import NewsletterError


class _FriendlyErrors(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsletterError as exc:
            _fail(str(exc), exc.exit_code)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            _fail(f"database error: {reason}", 1)
        except BrokenPipeError:
            # The reader went away (`... | head`): stop quietly, as Unix tools do on SIGPIPE.
            # stdout is pointed at /dev/null so the interpreter's final flush cannot fail too.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.exceptions.Exit(141) from None
        except OSError as exc:  # a file or folder the user named (or the data dir) unusable
            _fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc), 1)
        except KeyboardInterrupt:
            _fail("interrupted", 130)


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


cli.add_command(db)
cli.add_command(subscribers)
cli.add_command(posts)
cli.add_command(preview)
cli.add_command(check)
cli.add_command(send)
cli.add_command(editions_group)
cli.add_command(deliveries)
cli.add_command(web)
cli.add_command(bounces)
cli.add_command(run)
cli.add_command(status)
cli.add_command(init)
cli.add_command(doctor)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="newsletter")
