"""Fixtures for the mail tests: settings, the five real posts and the toolkit's rich post.

The real posts come from the parser's golden JSON files (``tests/content/golden``), so these
tests follow whatever the parser makes of the blog. Until those files exist the hand-made
post (``rich_post``), which has every block type, stands in for them.
"""

from __future__ import annotations

import json
from pathlib import Path

import lxml.html
import pytest

from newsletter.config import Settings
from newsletter.content.post import Post
from tests.support.posts import rich_post
from tests.support.settings import make_settings

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "content" / "golden"


def golden_posts() -> list[Post]:
    return [
        Post.from_json(json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(GOLDEN_DIR.glob("*.json"))
    ]


@pytest.fixture
def settings() -> Settings:
    return make_settings()


def posts_under_test() -> list[Post]:
    """The five real posts (once the parser's golden files exist) and the hand-made one."""
    return [*golden_posts(), rich_post()]


def visible_text(document: str) -> str:
    """The text a reader sees in an HTML document, whitespace collapsed."""
    tree = lxml.html.document_fromstring(document)
    for hidden in tree.xpath("//head | //style | //script"):
        hidden.drop_tree()
    return " ".join(tree.text_content().split())


def one_line(text: str) -> str:
    return " ".join(text.split())
