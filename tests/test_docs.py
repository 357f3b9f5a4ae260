"""The docs stay true: the CLI reference is generated from the commands, and links resolve.

``docs/cli.md`` is written from the commands themselves; after changing a command, refresh
it with ``UPDATE_DOCS=1 pytest tests/test_docs.py``. A moved file or a renamed heading
breaks the relative links of README.md and docs/*.md, which a reader only finds by clicking.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import click

from newsletter.cli import cli

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CLI_REFERENCE = ROOT / "docs" / "cli.md"
START, END = "<!-- cli-reference:start -->", "<!-- cli-reference:end -->"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _commands(command: click.Command, path: list[str]) -> Iterator[tuple[list[str], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        context = click.Context(command)
        for name in command.list_commands(context):
            subcommand = command.get_command(context, name)
            assert subcommand is not None, name
            yield from _commands(subcommand, [*path, name])


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


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def test_slug_follows_github() -> None:
    assert slug("Production: `init`, the DNS records, `doctor`, systemd") == (
        "production-init-the-dns-records-doctor-systemd"
    )
    assert slug("Return path (VERP)") == "return-path-verp"


def test_every_relative_link_resolves() -> None:
    broken = []
    for page in PAGES:
        for target in LINK.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            where = f"{page.relative_to(ROOT)}: {target}"
            if not linked.exists():
                broken.append(f"{where} (no such file)")
            elif anchor and (linked.suffix != ".md" or anchor not in anchors(linked)):
                broken.append(f"{where} (no such heading)")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_how_it_works_lists_the_layers_of_the_contract() -> None:
    """The layers drawn in docs/how-it-works.md are the ones `lint-imports` checks."""
    contract = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = [
        c["layers"] for c in contract["tool"]["importlinter"]["contracts"] if "layers" in c
    ]
    expected = [
        [name.strip().removeprefix("newsletter.") for name in layer.split("|")] for layer in layers
    ]
    page = (ROOT / "docs" / "how-it-works.md").read_text(encoding="utf-8")
    drawn = [
        re.findall(r"`(\w+)`", line) for line in re.findall(r"^\d+\. (`.*)$", page, re.MULTILINE)
    ]
    assert drawn == expected, "docs/how-it-works.md: the list of layers differs from pyproject.toml"


def test_configuration_names_every_key_of_the_template() -> None:
    """docs/configuration.md has a row for every key of config.example.toml, in its section."""
    template = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    blocks = dict(
        re.findall(r"^### `\[([\w.]+)\]`\n(.*?)(?=^### |\Z)", page, re.MULTILINE | re.DOTALL)
    )
    missing = []
    for section, keys in template.items():
        for key, value in keys.items():
            if isinstance(value, dict):  # a sub-table such as [bounces.imap]
                missing += [
                    f"{section}.{key}.{k}"
                    for k in value
                    if f"`{k}`" not in blocks.get(f"{section}.{key}", "")
                ]
            elif f"`{key}`" not in blocks.get(section, ""):
                missing.append(f"{section}.{key}")
    assert not missing, f"docs/configuration.md does not explain {missing}"
