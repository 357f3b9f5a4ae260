"""content/html_blocks: a feed's WordPress HTML becomes the same parts as a scraped page."""

from __future__ import annotations

from newsletter.content.html_blocks import html_to_blocks
from newsletter.content.post import Block


def test_html_nested_lists_scripts_and_furniture() -> None:
    body = html_to_blocks(
        "<div><p>Begin&nbsp;hier&#8230;</p>"
        "<ul><li>Een<ul><li>Een a</li></ul></li><li><p>Twee</p></li></ul>"
        "<style>p { color: red }</style>"
        "<h4>Klein kopje</h4><p>Tekst onder het kopje.</p>"
        "<blockquote><p>Eerste regel.</p><p>Tweede regel.</p></blockquote>"
        "<p>Tip: gebruik 1–2 woorden. Klik op ‘Zoek jouw thema in de blogs’.</p>"
        "<p>✉️ Ontvang wekelijks een blog die niet duwt of trekt.</p></div>"
    )
    assert body.blocks == (
        Block("paragraph", "Begin hier…"),
        Block("list", "", ("Een", "Een a", "Twee")),
        Block("subheading", "Klein kopje"),
        Block("paragraph", "Tekst onder het kopje."),
        Block("quote", "Eerste regel. Tweede regel."),
    )
