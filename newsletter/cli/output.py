"""How commands print: JSON for scripts, Rich tables for people.

Rich takes a while to import (a tenth of a second), so it is imported by the table, when
one is printed: ``newsletter --help`` and a command that prints a line or JSON never pay.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.text import Text


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def print_json_stream(objects: Iterable[dict[str, Any]]) -> None:
    """A JSON array written object by object, so a million rows never sit in memory."""
    out = sys.stdout
    separator = "[\n  "
    for obj in objects:
        out.write(separator + json.dumps(obj, ensure_ascii=False))
        separator = ",\n  "
    out.write("[]\n" if separator.startswith("[") else "\n]\n")


def print_table(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None
) -> None:
    """A Rich table of data; every cell is shown literally, whoever wrote it.

    Names come from a public form and titles from posts: as Rich markup a ``[/bold]`` would
    crash the command and a ``[link=...]`` hide a hyperlink in the admin's terminal, and a
    raw escape sequence could do the same. So cells are :class:`Text`, never markup, and
    control characters show as escapes.
    """
    from rich.console import Console
    from rich.table import Table

    table = Table(title=None if title is None else literal(title))
    for column in columns:
        table.add_column(literal(column))
    for row in rows:
        table.add_row(*(literal("" if cell is None else str(cell)) for cell in row))
    Console().print(table)


def literal(value: str) -> Text:
    """``value`` as plain text for Rich: no markup, no emoji codes, no terminal escapes."""
    from rich.text import Text

    return Text(
        "".join(
            c if c.isprintable() or c == "\n" else c.encode("unicode_escape").decode("ascii")
            for c in value
        )
    )
