"""The README's CLI reference is generated from the commands themselves and kept in sync.

After changing a command, refresh it with: ``UPDATE_README=1 pytest tests/test_readme.py``.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from pathlib import Path

import click

from newsletter.cli import cli

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- cli-reference:start -->", "<!-- cli-reference:end -->"


def _commands(command: click.Command, path: list[str]) -> Iterator[tuple[list[str], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        context = click.Context(command)
        for name in command.list_commands(context):
            subcommand = command.get_command(context, name)
            assert subcommand is not None, name
            yield from _commands(subcommand, [*path, name])


def reference() -> str:
    lines = ["```text"]
    for path, command in _commands(cli, ["newsletter"]):
        if isinstance(command, click.Group) and len(path) > 1:
            continue
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


def test_cli_reference_in_readme_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert START in text and END in text, "README lacks the CLI reference markers"
    head, rest = text.split(START, 1)
    current, tail = rest.split(END, 1)
    expected = f"\n{reference()}\n"
    if os.environ.get("UPDATE_README") == "1":
        README.write_text(f"{head}{START}{expected}{END}{tail}", encoding="utf-8")
        return
    diff = "\n".join(difflib.unified_diff(current.splitlines(), expected.splitlines(), lineterm=""))
    assert current == expected, f"README CLI reference is stale (UPDATE_README=1 fixes it):\n{diff}"


def test_readme_names_the_two_setup_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
    assert "make test" in (README.parent / ".ci" / "run").read_text(encoding="utf-8")
