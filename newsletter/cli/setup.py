"""``newsletter init`` and ``newsletter doctor``: a production set-up, and whether it is right.

Thin: the questions, the files and the checks live in ``newsletter.setup``; here they are
asked (Rich prompts) or taken from flags, written, and printed.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.prompt import Prompt

from newsletter.cli.context import AppContext, pass_app
from newsletter.config import SMTP_PASSWORD_ENV
from newsletter.errors import InputError
from newsletter.setup import doctor as doctor_checks
from newsletter.setup import files, questions
from newsletter.setup import init as setup

_STATUS_COLOURS = {"ok": "green", "warn": "yellow", "fail": "red"}


def _question_options(command: Any) -> Any:
    """One ``--flag`` per question of the set-up, so a script can answer every one."""
    for question in reversed(questions.QUESTIONS):
        command = click.option(
            question.flag,
            question.key,
            multiple=question.multiple,
            help=question.prompt + "." + (" Repeatable." if question.multiple else ""),
        )(command)
    return command


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@_question_options
@click.option("--yes", is_flag=True, help="Take the defaults for what no flag gave; ask nothing.")
@click.option("--force", is_flag=True, help="Overwrite existing files (keys are kept).")
def init(directory: Path, yes: bool, force: bool, **given: str | tuple[str, ...] | None) -> None:
    """Ask a few questions and write a working set-up into DIRECTORY.

    It writes config.toml, the link-signing key, a DKIM key, a systemd unit, a Caddyfile
    and the DNS records to publish, then says what to run next.
    """
    console = Console(highlight=False)
    if not yes:
        console.print(
            "Set-up of the newsletter of your blog. Press Enter to take the [bold]default"
            "[/bold] shown in brackets.\n"
        )
    try:
        answers = _answers(console, given, yes)
        password = _smtp_password(console, answers, yes)
    except EOFError:
        raise InputError("no answer (input closed): pass --yes to take the defaults") from None
    directory = directory.resolve()
    plan = setup.plan(
        directory,
        answers,
        executable=_executable(),
        user=getpass.getuser(),
        smtp_password=password.strip(),
        existing_dkim_key=setup.read_existing_dkim_key(directory),
    )
    done = setup.write(plan, force=force)
    console.print()
    for path, what in done:
        console.print(f"{what:<15} {path}")
    _print_records(console, plan)
    _print_next_steps(console, directory, needs_password=_logs_in(answers) and not password)


def _answers(
    console: Console, given: Mapping[str, str | tuple[str, ...] | None], yes: bool
) -> dict[str, str]:
    """Each question's answer: its flag, else its default (``--yes``), else asked."""
    answers: dict[str, str] = {}
    for question in questions.QUESTIONS:
        value = given.get(question.key)
        if isinstance(value, tuple):  # a repeatable flag: not given is ()
            value = " ".join(value) if value else None
        if value is not None:
            answers[question.key] = questions.answer(question, value, answers)
        elif yes:
            answers[question.key] = questions.answer(question, question.default(answers), answers)
        else:
            answers[question.key] = _ask(console, question, answers)
    return answers


def _logs_in(answers: Mapping[str, str]) -> bool:
    return bool(answers["smtp_host"] and answers["smtp_user"])


def _smtp_password(console: Console, answers: Mapping[str, str], yes: bool) -> str:
    """A password is never a flag (shell history); from the environment or asked, it is
    written to a file only the owner reads, which the service then uses."""
    if not _logs_in(answers):
        return ""
    password = os.environ.get(SMTP_PASSWORD_ENV, "")
    if not password and not yes:
        password = Prompt.ask(
            "The SMTP password (stored in a file only you can read; empty: set "
            "NEWSLETTER_SMTP_PASSWORD later)",
            console=console,
            password=True,
            default="",
            show_default=False,
        )
    return password


def _print_records(console: Console, plan: setup.Plan) -> None:
    console.print("\n[bold]Publish these DNS records[/bold] (also in dns-records.txt):\n")
    for record in plan.records:
        console.print(f"  {record.name}  {record.type}", soft_wrap=True)
        console.print(f"    {record.shown}", soft_wrap=True)
        console.print(f"    ({record.note})", soft_wrap=True)


def _print_next_steps(console: Console, directory: Path, *, needs_password: bool) -> None:
    config = directory / files.CONFIG
    console.print("\n[bold]Next[/bold]:", soft_wrap=True)
    steps = [f"newsletter --config {config} db upgrade"]
    if needs_password:
        steps.insert(
            0,
            f"the SMTP password: export {SMTP_PASSWORD_ENV}=... and run this init again with "
            f"--force (it goes into {directory / files.SMTP_PASSWORD}; keys are kept)",
        )
    steps += [
        f"newsletter --config {config} doctor      (once the records are published)",
        f"sudo cp {directory / files.UNIT} /etc/systemd/system/ && "
        "sudo systemctl enable --now newsletter",
    ]
    for number, step in enumerate(steps, 1):
        console.print(f"  {number}. {step}", soft_wrap=True)


def _ask(console: Console, question: questions.Question, answers: dict[str, str]) -> str:
    """Ask until the answer passes its check; the problem is said before asking again."""
    while True:
        default = question.default(answers)
        value = Prompt.ask(
            question.prompt, console=console, default=default, show_default=bool(default)
        )
        try:
            return question.check(value, answers)
        except InputError as exc:
            console.print(f"[red]{exc}[/red]")


def _executable() -> str:
    """The ``newsletter`` next to this Python (the virtualenv's), for the systemd unit."""
    beside = Path(sys.executable).parent / "newsletter"
    if beside.exists():
        return str(beside)
    return shutil.which("newsletter") or "newsletter"


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="A JSON array of {check, status, message}.")
@click.option(
    "--check",
    "only",
    multiple=True,
    type=click.Choice(doctor_checks.NAMES),
    help="Run only this check (repeatable; config always runs).",
)
@pass_app
def doctor(app: AppContext, as_json: bool, only: tuple[str, ...]) -> None:
    """Check the set-up as mail providers will see it; exit 1 when a check fails.

    Config, link key, database, who can read its files, relay (no mail sent), SPF, DKIM,
    DMARC, the bounce domain's MX, base_url and the feeds, each ok, warn or fail with the fix.
    """
    results = doctor_checks.run(app.config_path, only=only)
    if not only and any(r.check == "database" and r.status == "ok" for r in results):
        doctor_checks.record(app.database, results)
    if as_json:
        click.echo(json.dumps([result.as_dict() for result in results], indent=2))
    else:
        for result in results:
            status = click.style(f"{result.status:<4}", fg=_STATUS_COLOURS[result.status])
            click.echo(f"{status}  {result.check:<10}  {result.message}")
    if doctor_checks.failed(results):
        raise click.exceptions.Exit(1)
