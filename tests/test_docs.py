"""The docs stay true: the CLI reference is generated from the commands themselves.

``docs/cli.md`` is written from the commands; after changing a command, refresh it with
``UPDATE_DOCS=1 pytest tests/test_docs.py``.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from pathlib import Path

import click

from newsletter.cli import cli

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CLI_REFERENCE = ROOT / "docs" / "cli.md"
START, END = "<!-- cli-reference:start -->", "<!-- cli-reference:end -->"


def _commands(command: click.Command, path: list[str]) -> Iterator[tuple[list[str], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            yield from _commands(command.commands[name], [*path, name])


def _leaf_commands() -> Iterator[tuple[list[str], click.Command]]:
    for path, command in _commands(cli, ["newsletter"]):
        if not (isinstance(command, click.Group) and len(path) > 1):
            yield path, command


def reference() -> str:
    lines = ["```text"]
    for path, command in _leaf_commands():
        context = click.Context(command, info_name=" ".join(path))
        pieces = command.collect_usage_pieces(context)
        lines.append(" ".join([*path, *pieces]))
        lines.append(f"    {command.get_short_help_str(limit=90)}")
        for param in command.params:  # not get_params(): the help option varies by context
            record = param.get_help_record(context)
            if record and isinstance(param, click.Option):
                lines.append(f"    {record[0]:<28} {record[1]}")
    lines.append("```")
    return "\n".join(lines)


def test_cli_reference_is_current() -> None:
    text = CLI_REFERENCE.read_text(encoding="utf-8")
    assert START in text and END in text, "docs/cli.md lacks the CLI reference markers"
    head, rest = text.split(START, 1)
    current, tail = rest.split(END, 1)
    expected = f"\n{reference()}\n"
    if os.environ.get("UPDATE_DOCS") == "1":
        CLI_REFERENCE.write_text(f"{head}{START}{expected}{END}{tail}", encoding="utf-8")
        return
    diff = "\n".join(difflib.unified_diff(current.splitlines(), expected.splitlines(), lineterm=""))
    assert current == expected, (
        f"docs/cli.md: the CLI reference is stale (UPDATE_DOCS=1 fixes it):\n{diff}"
    )


def test_every_command_is_in_the_reference() -> None:
    text = CLI_REFERENCE.read_text(encoding="utf-8")
    missing = [" ".join(path) for path, _ in _leaf_commands() if f"\n{' '.join(path)} " not in text]
    assert not missing, f"docs/cli.md lacks {missing} (UPDATE_DOCS=1 fixes it)"


def test_readme_names_the_two_setup_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
