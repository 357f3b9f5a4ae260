"""The Post every source format ends in: its JSON is the queue's stored form (and its
content hash), and its URL becomes a link in every email, so only http(s) passes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from newsletter.content.post import Post, check_post_url, is_web_url
from newsletter.errors import ContentError
from tests.support.posts import rich_post


def test_json_gives_back_the_same_post() -> None:
    post = replace(rich_post(), published_at=datetime(2026, 11, 30, 7, tzinfo=UTC))
    assert Post.from_json(post.to_json()) == post
    excerpt = replace(post, summary_only=True, faq_heading="Veelgestelde vragen over rust")
    assert Post.from_json(excerpt.to_json()) == excerpt


def test_keys_that_are_not_set_stay_out_of_the_json() -> None:
    """Older posts' JSON, and so their content hash, must not change when keys are added."""
    data = rich_post().to_json()
    assert "summary_only" not in data and "faq_heading" not in data


def test_the_outline_gives_the_counts_and_the_headings_by_level() -> None:
    assert rich_post().outline() == [
        "innerlijke-rust: Innerlijke rust: thuiskomen in jezelf — ook als het schuurt",
        "  3 questions, 10 blocks, 1 FAQ entries",
        "  Wat rust werkelijk is — en waarom ze ruimte geeft",
        "    1. Stilstaan bij jezelf",
    ]


@pytest.mark.parametrize(
    ("url", "web"),
    [
        ("https://www.gerritvanderheide.com/rust/", True),
        ("HTTP://blog.example/", True),
        ("javascript:alert(1)", False),
        ("java\nscript:alert(1)", False),
        ("data:text/html,<b>x</b>", False),
        ("https:///geen-host", False),
        ("//blog.example/rust/", False),
        ("", False),
    ],
)
def test_only_absolute_http_urls_with_a_host_are_web_urls(url: str, web: bool) -> None:
    assert is_web_url(url) is web


def test_a_bad_url_names_the_posts_source_and_line() -> None:
    check_post_url(None, source="posts/rust.md")
    with pytest.raises(ContentError, match=r"^posts/rust\.md:3: the post's url must be"):
        check_post_url("javascript:alert(1)", source="posts/rust.md", line=3)
