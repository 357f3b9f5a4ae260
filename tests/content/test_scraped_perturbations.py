"""The same page, saved or scraped a little differently, must give the same post.

Line endings, NBSP padding, blank-line spacing and the presence of the header block are
accidents of how a page was scraped; none of them may change a single block.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from newsletter.content.scraped import parse_scraped

from .helpers import SEED_PATHS, body_parts, has_header_block, json_diff, seed_source

NBSP = "\u00a0"


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def nbsp_at_line_ends(text: str) -> str:
    """Trailing spaces become NBSP, and every line gets one more NBSP at its end."""
    return "\n".join(
        re.sub(r" +$", lambda m: NBSP * len(m.group(0)), line) + NBSP for line in text.split("\n")
    )


def nbsp_for_last_space(text: str) -> str:
    """The last space of each line becomes an NBSP, as in "Lees verder:\u00a0Titel"."""
    return "\n".join(
        line[:cut] + NBSP + line[cut + 1 :] if (cut := line.rfind(" ")) >= 0 else line
        for line in text.split("\n")
    )


def trailing_whitespace(text: str) -> str:
    return "\n".join(f"{line} \t " for line in text.split("\n"))


def doubled_blank_lines(text: str) -> str:
    lines: list[str] = []
    for line in text.split("\n"):
        lines.append(line)
        if not line.strip():
            lines.append(line)
    return "\n".join(lines)


def blank_line_after_every_line(text: str) -> str:
    return "\n\n".join(text.split("\n"))


PERTURBATIONS: dict[str, Callable[[str], str]] = {
    "crlf": crlf,
    "nbsp-at-line-ends": nbsp_at_line_ends,
    "nbsp-for-last-space": nbsp_for_last_space,
    "trailing-whitespace": trailing_whitespace,
    "doubled-blank-lines": doubled_blank_lines,
    "blank-line-after-every-line": blank_line_after_every_line,
    "crlf-nbsp-doubled": lambda text: crlf(nbsp_at_line_ends(doubled_blank_lines(text))),
}


@pytest.mark.parametrize("perturb", PERTURBATIONS.values(), ids=PERTURBATIONS.keys())
def test_perturbed_seed_parses_to_the_same_post(
    perturb: Callable[[str], str], seed_path: Path, seed_text: str
) -> None:
    source = seed_source(seed_path)
    expected = parse_scraped(seed_text, source=source).to_json()
    actual = parse_scraped(perturb(seed_text), source=source).to_json()
    assert actual == expected, json_diff(expected, actual)


LAYOUT_A_PATHS = [path for path in SEED_PATHS if has_header_block(path.read_text("utf-8"))]
layout_a_seeds = pytest.mark.parametrize(
    "seed_path", LAYOUT_A_PATHS, ids=[path.stem for path in LAYOUT_A_PATHS]
)


def test_three_seeds_have_a_header_block() -> None:
    assert len(LAYOUT_A_PATHS) == 3


@layout_a_seeds
def test_without_header_meta_lines_title_lead_and_body_stay(
    seed_path: Path, seed_text: str
) -> None:
    """Dropping short title, category and reading times leaves "headline / lead / …"."""
    lines = seed_text.split("\n")
    first_time = next(i for i, line in enumerate(lines) if line.strip() == "13 min")
    rest = [line for line in lines[first_time:] if line.strip() != "13 min"]
    source = seed_source(seed_path)
    expected = parse_scraped(seed_text, source=source)
    actual = parse_scraped("\n".join(rest), source=source)
    assert (actual.title, actual.lead) == (expected.title, expected.lead)
    assert (actual.short_title, actual.category, actual.reading_minutes) == (None, None, None)
    assert body_parts(actual) == body_parts(expected), json_diff(
        body_parts(expected), body_parts(actual)
    )


@layout_a_seeds
def test_without_header_block_the_body_stays(seed_path: Path, seed_text: str) -> None:
    """A page cut right at "Drie vragen …" has no title line; the body must not change."""
    lines = seed_text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("Drie vragen"))
    source = seed_source(seed_path)
    expected = parse_scraped(seed_text, source=source)
    actual = parse_scraped("\n".join(lines[start:]), source=source)
    assert body_parts(actual) == body_parts(expected), json_diff(
        body_parts(expected), body_parts(actual)
    )
    assert actual.title == next(b.text for b in expected.blocks if b.type == "heading")
    assert actual.lead is None
