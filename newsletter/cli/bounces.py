"""``newsletter bounces``: feed returned mail in by hand or from an MTA pipe, and see outcomes."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import click

from newsletter.cli.context import AppContext, pass_app
from newsletter.cli.output import print_json_stream, print_table
from newsletter.db.models import utcnow
from newsletter.errors import InputError
from newsletter.returns import suspect
from newsletter.returns.apply import Processed, process_message, verdict_json
from newsletter.returns.mailbox import fetch_mailbox
from newsletter.returns.parse import MAX_MESSAGE_BYTES, classify
from newsletter.returns.report import recent_reports
from newsletter.runtime.owner_mail import mail_pending_alerts


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

    Exit 0 when every message could be read, 1 when something was no e-mail or could not
    be read (too big, nested too deep, not a regular file): it is left where it is.
    """
    unread = 0
    for name, read in _messages(source):
        try:
            outcome = process_message(
                app.database, app.settings, read(), envelope_recipient=recipient, source="cli"
            )
        except InputError as exc:
            unread += 1
            _print_error(name, str(exc), as_json)
            continue
        _print(name, outcome, as_json)
    # An edition past a threshold: the owner hears now, not at the daemon's next look.
    mail_pending_alerts(app.database, app.settings, utcnow())
    if unread:
        raise click.exceptions.Exit(1)


def _messages(source: str) -> Iterator[tuple[str, Callable[[], bytes]]]:
    """Each message's name and how to read it: a message that cannot be read costs its
    own line, not the run."""
    if source == "-":
        yield "-", lambda: sys.stdin.buffer.read(MAX_MESSAGE_BYTES + 1)
        return
    path = Path(source)
    if path.is_dir():
        if all((path / sub).is_dir() for sub in ("new", "cur", "tmp")):
            # Maildir: the files of new/ and cur/, named by their key (the name before ':').
            files = [file for sub in ("new", "cur") for file in (path / sub).iterdir()]
            named = sorted((file.name.partition(":")[0], file) for file in files)
            for key, file in named:
                if not key.startswith("."):
                    yield key, partial(_read_entry, file)
            return
        for file in sorted(path.iterdir()):
            if not file.is_dir():
                yield file.name, partial(_read_entry, file)
        return
    if not path.exists():
        raise InputError(f"no such file or folder: {source}")
    yield path.name, partial(_read, path)


def _read_entry(path: Path) -> bytes:
    """A folder's entry, read only when it is a regular file (lstat, before it is opened):
    opening a FIFO waits for a writer forever, a device never ends, a link leads anywhere.
    Opened without blocking or following links, in case it is swapped after the check."""
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            raise InputError("not a regular file")
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}") from None
    with open(descriptor, "rb") as handle:
        return handle.read(MAX_MESSAGE_BYTES + 1)


def _read(path: Path) -> bytes:
    """The one file named on the command line, as the admin named it (a link, a pipe)."""
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_MESSAGE_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}") from None


def _print(name: str, outcome: Processed, as_json: bool) -> None:
    """One JSON object per message (its verdicts inside), or one line per verdict."""
    if as_json:
        click.echo(json.dumps({"message": name, **outcome.to_json()}, ensure_ascii=False))
        return
    for settled in outcome.verdicts:
        who = settled.email or "-"
        again = " (already processed)" if settled.duplicate else ""
        text = f"{settled.diagnostic} [{settled.verdict.reason}]".strip()
        click.echo(f"{name}: {settled.result} {who}: {text}{again}")


def _print_error(name: str, problem: str, as_json: bool, **extra: object) -> None:
    if as_json:
        click.echo(json.dumps({"message": name, "result": "error", "reason": problem, **extra}))
    else:
        click.echo(f"{name}: error: {problem}", err=True)


@bounces.command("explain")
@click.argument("source", metavar="FILE|DIR|-")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message.")
def explain(source: str, as_json: bool) -> None:
    """What returned mail says, verdict by verdict, without acting on it: the kind, the
    reason, the codes and the failed addresses. Reads no settings and no database.

    Exit 1 when something was no e-mail or could not be read.
    """
    unread = 0
    for name, read in _messages(source):
        try:
            verdicts = classify(read())
        except InputError as exc:
            unread += 1
            _print_error(name, str(exc), as_json)
            continue
        if as_json:
            found = [verdict_json(verdict) for verdict in verdicts]
            click.echo(json.dumps({"message": name, "verdicts": found}, ensure_ascii=False))
            continue
        for verdict in verdicts:
            codes = " ".join(str(c) for c in (verdict.reply_code, verdict.status) if c)
            click.echo(f"{name}: {verdict.kind} [{verdict.reason}] {codes}".rstrip())
            for label, value in (
                ("recipients", ", ".join(verdict.recipients)),
                ("diagnostic", verdict.diagnostic),
            ):
                if value:
                    click.echo(f"  {label}: {value}")
    if unread:
        raise click.exceptions.Exit(1)


@bounces.command("confirm")
@click.argument("edition_id", metavar="N", type=int)
@click.argument("domain")
@pass_app
def confirm(app: AppContext, edition_id: int, domain: str) -> None:
    """Drop the readers whose hard bounces of edition N at DOMAIN were held as suspect.

    The owner alert asks for this only when the addresses really are gone; without it
    those readers stay active.
    """
    domain = domain.strip().lower()
    with app.database.session() as session:
        held = suspect.confirm(session, app.settings, edition_id, domain, actor="cli")
    mail_pending_alerts(app.database, app.settings, utcnow())
    click.echo(f"edition {edition_id}: {held} held hard bounces at {domain} confirmed")


@bounces.command("fetch")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message.")
@pass_app
def fetch(app: AppContext, as_json: bool) -> None:
    """Process the bounce mailbox ([bounces.imap]) once, as the daemon does every few minutes.

    Bounces and complaints are moved to bounces.imap.processed_folder, mail that cannot be
    read to bounces.imap.unreadable_folder; other mail stays.
    """
    for fetched in fetch_mailbox(app.database, app.settings):
        name = f"uid {fetched.uid}"
        if fetched.outcome is None:
            _print_error(name, fetched.problem or "not processed", as_json, moved=fetched.moved)
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
        ("when", "result", "reason", "email", "edition", "source", "diagnostic"),
        (
            (
                report.received_at.strftime("%Y-%m-%d %H:%M"),
                report.result,
                report.reason,
                report.email,
                report.edition_id,
                report.source,
                report.diagnostic,
            )
            for report in reports
        ),
    )
