"""How commands print: a JSON stream that is valid JSON at any length, and table cells that
are shown literally whoever wrote them (names come from a public form)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.cli.output import literal, print_json_stream, print_table


@pytest.mark.parametrize("count", [0, 1, 3])
def test_a_json_stream_is_one_valid_array(count: int, capsys: pytest.CaptureFixture[str]) -> None:
    objects = [{"id": n, "naam": "Zoë"} for n in range(count)]
    print_json_stream(iter(objects))
    assert json.loads(capsys.readouterr().out) == objects


def test_markup_and_escapes_in_a_cell_are_shown_not_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_table(["naam"], [["[/bold][link=https://evil.example]klik[/link]"], ["\x1b[31mrood"]])
    out = capsys.readouterr().out
    assert "[/bold][link=https://evil.example]klik[/link]" in out
    assert "\x1b[31m" not in out and "\\x1b[31mrood" in out


@given(st.text())
def test_literal_keeps_printable_text_and_escapes_the_rest(value: str) -> None:
    shown = literal(value).plain
    assert all(c.isprintable() or c == "\n" for c in shown)
    if all(c.isprintable() or c == "\n" for c in value):
        assert shown == value
