"""A URL's password, hidden wherever the URL is shown."""

from __future__ import annotations

import pytest

from newsletter.config import hide_password


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "https://gerrit:geheim@blog.example.org/feed/",
            "https://gerrit:***@blog.example.org/feed/",
        ),
        ("https://gerrit:p@ss@blog.example.org/feed/", "https://gerrit:***@blog.example.org/feed/"),
        ("https://:geheim@blog.example.org/", "https://:***@blog.example.org/"),
        (
            "cannot fetch https://a:x@one.example.org/ nor http://b:y@two.example.org/feed",
            "cannot fetch https://a:***@one.example.org/ nor http://b:***@two.example.org/feed",
        ),
    ],
)
def test_every_password_in_a_text_is_hidden(text: str, shown: str) -> None:
    assert hide_password(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "https://blog.example.org/feed/",
        "https://gerrit@blog.example.org/feed/",
        "https://blog.example.org:8443/feed/?a=b:c@d",
        "mailto:gerrit@example.org",
    ],
)
def test_a_text_without_a_password_is_left_as_it_is(text: str) -> None:
    assert hide_password(text) == text
