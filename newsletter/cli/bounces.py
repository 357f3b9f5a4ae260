"""``newsletter bounces``: feed returned mail in by hand or from an MTA pipe, and see outcomes."""

from __future__ import annotations

import json
import mailbox
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from newsletter.cli.context import AppContext, pass_app, print_json_stream, print_table
from newsletter.delivery.bounces import Processed, process_message, recent_reports
from newsletter.errors import InputError
from newsletter.inbound.imap import fetch_mailbox
from newsletter.mail.bounce import NotAMailError

# A bounce carries the returned headers at most; a 30 MB "message" is not one.
MAX_MESSAGE_BYTES = 10 * 1024 * 1024


@click.group("bounces")
def bounces() -> None:
    """Bounces and complaints that came back after the relay accepted a message."""


@bounces.command("process")
@click.argument("source", default="-", metavar="[FILE|DIR|-]")
@click.option(
    "--recipient",
    metavar="ADDRESS",
    help="The envelope recipient (default: Delivered-To, X-Original-To, then To).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message.")
@pass_app
def process(app: AppContext, source: str, recipient: str | None, as_json: bool) -> None:
    """Read one message (a file, or stdin for an MTA pipe) or every message of a folder
    (a Maildir or plain files), and act on the bounces and complaints among them.

    Exit 0 when every message could be read, 1 when something was no e-mail.
    """
    not_mail = 0
    for name, raw in _messages(source):
        try:
            outcome = process_message(
                app.database, app.settings, raw, envelope_recipient=recipient, source="cli"
            )
        except NotAMailError as exc:
            not_mail += 1
            _print_error(name, str(exc), as_json)
            continue
        _print(name, outcome, as_json)
    if not_mail:
        raise click.exceptions.Exit(1)


def _messages(source: str) -> Iterator[tuple[str, bytes]]:
    if source == "-":
        yield "-", _limited(sys.stdin.buffer.read(MAX_MESSAGE_BYTES + 1), "stdin")
        return
    path = Path(source)
    if path.is_dir():
        if all((path / sub).is_dir() for sub in ("new", "cur", "tmp")):
            box = mailbox.Maildir(path, factory=None, create=False)
            for key in sorted(box.keys()):
                with box.get_file(key) as handle:
                    yield key, _limited(handle.read(MAX_MESSAGE_BYTES + 1), key)
            return
        for file in sorted(p for p in path.iterdir() if p.is_file()):
            yield file.name, _read(file)
        return
    if not path.exists():
        raise InputError(f"no such file or folder: {source}")
    yield path.name, _read(path)


def _read(path: Path) -> bytes:
    with path.open("rb") as handle:
        return _limited(handle.read(MAX_MESSAGE_BYTES + 1), str(path))


def _limited(raw: bytes, name: str) -> bytes:
    if len(raw) > MAX_MESSAGE_BYTES:
        raise InputError(f"{name}: larger than {MAX_MESSAGE_BYTES // (1024 * 1024)} MB")
    return raw


def _print(name: str, outcome: Processed, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"message": name, **outcome.to_json()}, ensure_ascii=False))
        return
    who = outcome.email or "-"
    again = " (already processed)" if outcome.duplicate else ""
    click.echo(f"{name}: {outcome.result} {who}: {outcome.reason}{again}")


def _print_error(name: str, problem: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"message": name, "result": "error", "reason": problem}))
    else:
        click.echo(f"{name}: error: {problem}", err=True)


@bounces.command("fetch")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message.")
@pass_app
def fetch(app: AppContext, as_json: bool) -> None:
    """Process the bounce mailbox ([bounces.imap]) once, as the daemon does every few minutes.

    Bounces and complaints are moved to bounces.imap.processed_folder; other mail stays.
    """
    for fetched in fetch_mailbox(app.database, app.settings):
        name = f"uid {fetched.uid}"
        if fetched.outcome is None:
            _print_error(name, fetched.problem or "not processed", as_json)
        elif as_json:
            click.echo(
                json.dumps(
                    {"message": name, **fetched.outcome.to_json(), "moved": fetched.moved},
                    ensure_ascii=False,
                )
            )
        else:
            _print(name, fetched.outcome, False)


@bounces.command("list")
@click.option("--limit", default=50, show_default=True, help="How many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="A JSON array of outcomes.")
@pass_app
def list_reports(app: AppContext, limit: int, as_json: bool) -> None:
    """Recent bounces, complaints and ignored returns, newest first."""
    with app.database.session() as session:
        reports = recent_reports(session, limit)
    if as_json:
        print_json_stream(report.to_json() for report in reports)
        return
    print_table(
        ("when", "result", "email", "edition", "source", "reason"),
        (
            (
                report.received_at.strftime("%Y-%m-%d %H:%M"),
                report.result,
                report.email,
                report.edition_id,
                report.source,
                report.reason,
            )
            for report in reports
        ),
    )
