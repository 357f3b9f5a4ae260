"""Shared by the content tests: where the seed posts live, and readable structural diffs."""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path
from typing import Any

from newsletter.content.post import Post

REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDS_DIR = REPO_ROOT / "examples" / "posts"
SEED_PATHS = sorted(SEEDS_DIR.glob("*.txt"))
GOLDEN_DIR = Path(__file__).parent / "golden"
FIXTURES_DIR = Path(__file__).parent / "fixtures"

_READING_TIME_RE = re.compile(r"^\s*\d+\s*min\s*$")


def seed_source(path: Path) -> str:
    """The source name a seed is parsed under: stable, so the golden files don't vary."""
    return f"examples/posts/{path.name}"


def has_header_block(text: str) -> bool:
    """Layout A: a "13 min" reading time among the first lines."""
    head = [line for line in text.splitlines() if line.strip()][:5]
    return any(_READING_TIME_RE.match(line) for line in head)


def body_parts(post: Post) -> dict[str, Any]:
    """The parts every layout variant of a seed must agree on."""
    data = post.to_json()
    return {key: data[key] for key in ("questions", "blocks", "faq", "related")}


def every_text(post: Post) -> list[str]:
    """Every text a subscriber could see: header fields, blocks, items, questions, FAQ."""
    texts = [post.title, post.lead or "", post.short_title or "", post.category or ""]
    for block in post.blocks:
        texts.append(block.text)
        texts.extend(block.items)
    for entry in (*post.questions, *post.faq):
        texts.extend((entry.question, entry.answer))
    texts.extend(post.related)
    return texts


def json_diff(
    expected: Any, actual: Any, *, names: tuple[str, str] = ("expected", "actual")
) -> str:
    """A unified diff of two JSON values, pretty-printed, for assertion messages."""
    left = json.dumps(expected, indent=2, ensure_ascii=False, sort_keys=True).splitlines()
    right = json.dumps(actual, indent=2, ensure_ascii=False, sort_keys=True).splitlines()
    return "\n" + "\n".join(
        difflib.unified_diff(left, right, fromfile=names[0], tofile=names[1], lineterm="", n=2)
    )
