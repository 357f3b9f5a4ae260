"""The author's own "Groet, Gerrit" at the end of a Markdown or feed post is the sign-off.

The email adds its own signature; a post that kept the author's too would be signed twice
(and the pre-send check holds such an edition). Markdown and HTML put name and greeting in
one paragraph, so the sign-off is recognised glued as well; a longer sentence that merely
starts with "Groeten," stays text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.content.markdown import parse_markdown
from newsletter.content.post import Block
from newsletter.feeds.entries import parse_feed
from tests.support.cli import NewsletterCli

FRONT = "---\ntitle: Rust in december\n---\n\nEen alinea over rust.\n\n"


@pytest.mark.parametrize(
    "ending",
    [
        "Groet,\nGerrit\n",
        "Groet,  \nGerrit\n",  # a Markdown hard break
        "Groeten,\nGerrit\n",
        "Hartelijke groet,\nGerrit van der Heide\n",
        "Warme groet, Gerrit\n",
        "groet,\ngerrit\n",
    ],
)
def test_a_markdown_post_loses_its_own_sign_off(ending: str) -> None:
    post = parse_markdown(FRONT + ending, source="rust.md")
    assert post.blocks == (Block("paragraph", "Een alinea over rust."),)


@pytest.mark.parametrize(
    "paragraph",
    [
        "Groeten, allemaal uit het mooie Amsterdam waar ik woon en werk.",
        "Groet, Gerrit. En nu verder met de tweede helft van het verhaal over rust.",
        "Groetjes van de zee",
        "Met een groet, Gerrit",
    ],
)
def test_a_sentence_that_starts_like_a_greeting_stays(paragraph: str) -> None:
    post = parse_markdown(FRONT + paragraph + "\n\nNog een alinea.\n", source="rust.md")
    assert [block.text for block in post.blocks] == [
        "Een alinea over rust.",
        paragraph,
        "Nog een alinea.",
    ]


def test_a_feed_item_signed_in_one_paragraph_loses_the_sign_off() -> None:
    feed = (
        '<?xml version="1.0"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>b</title>'
        "<item><title>Rust</title><link>https://blog.example.nl/rust/</link>"
        "<content:encoded><![CDATA[<p>Een alinea over rust.</p><p>Groet,<br>Gerrit</p>]]>"
        "</content:encoded></item></channel></rss>"
    )
    [post] = parse_feed(feed, source="feed.xml")
    assert post.blocks == (Block("paragraph", "Een alinea over rust."),)


def test_check_passes_a_markdown_post_that_signed_itself(tmp_path: Path, database_url: str) -> None:
    """End to end: imported, then the deliverability check finds one signature, not two."""
    newsletter = NewsletterCli(database_url, tmp_path)
    path = newsletter.post_file("rust.md", FRONT + "Nog een alinea.\n\nGroet,\nGerrit\n")
    newsletter.ok("posts", "import", str(path))
    report = newsletter.ok("check", "rust-in-december")
    assert "PASS  signature in HTML: 1 time(s)" in report
    assert "PASS  signature in text: 1 time(s)" in report
    assert "Groet" not in newsletter.ok("posts", "show", "rust-in-december", "--json")
