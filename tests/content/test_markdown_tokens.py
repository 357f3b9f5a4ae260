"""Markdown read by markdown-it-py: the CommonMark constructs a hand-written reader missed.

Each case gives the exact blocks a reader gets. Where Markdown leaves a choice (nested
lists, code, tables, raw HTML) the post reads as its HTML would in a feed; no markup, URL
or script ever reaches a block's text.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsletter.content.html_blocks import html_to_blocks
from newsletter.content.markdown import parse_markdown
from newsletter.content.post import Block
from tests.support.cli import NewsletterCli

FRONT = "---\ntitle: Rust in december\n---\n\n"


def blocks(body: str) -> tuple[Block, ...]:
    return parse_markdown(FRONT + body, source="rust.md").blocks


def test_setext_headings_are_headings_and_the_first_one_the_title() -> None:
    post = parse_markdown(
        "Loslaten begint bij voelen\n==========================\n\n"
        "Een alinea over rust.\n\n"
        "Waar het begint\n---------------\n\n"
        "Je merkt het eerst in je lijf.\n\n"
        "Wat je kunt doen\n================\n\n"
        "Ademen.\n",
        source="loslaten.md",
    )
    assert (post.title, post.slug) == ("Loslaten begint bij voelen", "loslaten-begint-bij-voelen")
    assert post.blocks == (
        Block("paragraph", "Een alinea over rust."),
        Block("heading", "Waar het begint"),
        Block("paragraph", "Je merkt het eerst in je lijf."),
        Block("heading", "Wat je kunt doen"),
        Block("paragraph", "Ademen."),
    )


def test_atx_heading_levels_three_to_six_are_subheadings() -> None:
    assert blocks("## Twee ##\n\nTekst.\n\n#### Vier\n\nMeer tekst.\n\n###### Zes\n\nEinde.\n") == (
        Block("heading", "Twee"),
        Block("paragraph", "Tekst."),
        Block("subheading", "Vier"),
        Block("paragraph", "Meer tekst."),
        Block("subheading", "Zes"),
        Block("paragraph", "Einde."),
    )


def test_backslash_escapes_give_the_character_itself() -> None:
    assert blocks(
        "\\*geen nadruk\\*, \\_ook niet\\_ en \\# geen kop.\n\n"
        "\\- Geen lijst, maar een zin met een streepje.\n\n"
        "1995\\. Het jaar dat alles begon.\n"
    ) == (
        Block("paragraph", "*geen nadruk*, _ook niet_ en # geen kop."),
        Block("paragraph", "- Geen lijst, maar een zin met een streepje."),
        Block("paragraph", "1995. Het jaar dat alles begon."),
    )


def test_nested_lists_are_flattened_each_item_after_its_parent() -> None:
    assert blocks(
        "Zo begin je:\n\n"
        "1. Stilstaan\n"
        "   - een keer per uur\n"
        "   - drie tellen lang\n"
        "2. Voelen\n"
        "   * in je **lijf**\n"
        "     - schouders\n"
        "   * in je hoofd\n"
        "3. Loslaten\n"
    ) == (
        Block("paragraph", "Zo begin je:"),
        Block(
            "list",
            "",
            (
                "Stilstaan",
                "een keer per uur",
                "drie tellen lang",
                "Voelen",
                "in je lijf",
                "schouders",
                "in je hoofd",
                "Loslaten",
            ),
        ),
    )


def test_an_items_paragraphs_join_like_a_scraped_continuation() -> None:
    assert blocks(
        "- **Innerlijke rust**\n\n"
        "  Je hoeft minder te vechten tegen wat er is.\n\n"
        "- Meer ruimte.\n\n"
        "  Voor wat echt telt.\n"
        "- Een item dat\n"
        "  op de volgende regel doorloopt\n"
    ) == (
        Block(
            "list",
            "",
            (
                "Innerlijke rust: Je hoeft minder te vechten tegen wat er is.",
                "Meer ruimte. Voor wat echt telt.",
                "Een item dat op de volgende regel doorloopt",
            ),
        ),
    )


def test_an_item_with_two_paragraphs_reads_the_same_as_the_feeds_html() -> None:
    """The Markdown and the HTML a blog renders from it give one item, not two."""
    markdown = "- **Innerlijke rust**\n\n  Je hoeft minder te vechten.\n- Ruimte\n  - voor jou\n"
    html = (
        "<ul><li><p><strong>Innerlijke rust</strong></p><p>Je hoeft minder te vechten.</p></li>"
        "<li><p>Ruimte</p><ul><li>voor jou</li></ul></li></ul>"
    )
    expected = (
        Block("list", "", ("Innerlijke rust: Je hoeft minder te vechten.", "Ruimte", "voor jou")),
    )
    assert blocks(markdown) == expected
    assert html_to_blocks(html).blocks == expected


def test_lists_right_after_each_other_are_one_list_unless_a_comment_splits_them() -> None:
    assert blocks("- een\n- twee\n* drie\n\n1. vier\n\n<!-- -->\n\n- vijf\n") == (
        Block("list", "", ("een", "twee", "drie", "vier")),
        Block("list", "", ("vijf",)),
    )


def test_a_blockquote_is_one_quote() -> None:
    assert blocks("> Echte kracht\n> is stil.\n>\n> Ze fluistert.\n\nDaarna.\n") == (
        Block("quote", "Echte kracht is stil. Ze fluistert."),
        Block("paragraph", "Daarna."),
    )


def test_html_blocks_give_the_blocks_they_give_in_a_feed() -> None:
    assert blocks(
        "Een alinea.\n\n"
        '<blockquote class="wp-block-quote">\n<p>Echte kracht is stil.</p>\n</blockquote>\n\n'
        "<h3>Drie dingen</h3>\n\n"
        "<ul>\n<li>adem</li>\n<li><strong>voel</strong></li>\n<li>laat los</li>\n</ul>\n\n"
        "<p>Een alinea in HTML.</p>\n\n"
        "<h2>Verder</h2>\n\n"
        "Markdown &amp; HTML door elkaar.\n"
    ) == (
        Block("paragraph", "Een alinea."),
        Block("quote", "Echte kracht is stil."),
        Block("subheading", "Drie dingen"),
        Block("list", "", ("adem", "voel", "laat los")),
        Block("paragraph", "Een alinea in HTML."),
        Block("heading", "Verder"),
        Block("paragraph", "Markdown & HTML door elkaar."),
    )


def test_inline_html_tags_are_dropped_and_their_text_kept() -> None:
    assert blocks(
        'Een <span class="accent">zachte</span> en <b>stevige</b> zin.<br>Op twee regels.\n\n'
        "- een <em>item</em> <script>alert(1)</script>met script\n"
    ) == (
        Block("paragraph", "Een zachte en stevige zin. Op twee regels."),
        Block("list", "", ("een item met script",)),
    )


def test_entities_are_decoded() -> None:
    assert blocks(
        "Caf&eacute; &amp; thee &#8212; 3 &lt; 4 &copy; Gerrit&nbsp;van der Heide.\n"
    ) == (Block("paragraph", "Café & thee — 3 < 4 © Gerrit van der Heide."),)


def test_script_and_style_blocks_do_not_leak() -> None:
    assert blocks(
        "Voor het script.\n\n"
        "<script>\ndocument.write('<p>gehackt</p>');\n</script>\n\n"
        "<style>\np { color: red; }\n</style>\n\n"
        '<div class="box"><script>track()</script><p>In de box.</p></div>\n\n'
        "Na het script.\n"
    ) == (
        Block("paragraph", "Voor het script."),
        Block("paragraph", "In de box."),
        Block("paragraph", "Na het script."),
    )


@pytest.mark.parametrize(
    "ending",
    ["Groet,\\\nGerrit\n", "Groet,  \nGerrit\n", "Groet,<br>Gerrit\n", "*Groet,*\n**Gerrit**\n"],
    ids=["backslash-break", "two-spaces-break", "br-tag", "emphasised"],
)
def test_a_sign_off_across_a_line_break_is_removed(ending: str) -> None:
    assert blocks("Een alinea over rust.\n\n" + ending) == (
        Block("paragraph", "Een alinea over rust."),
    )


def test_a_link_keeps_its_text_and_loses_its_url() -> None:
    assert blocks(
        'Lees [hoe je begint](https://www.gerritvanderheide.com/begin/ "Begin") en '
        "[dit][ref] vandaag.\n\n[ref]: https://www.gerritvanderheide.com/ref/\n"
    ) == (Block("paragraph", "Lees hoe je begint en dit vandaag."),)


def test_an_image_is_dropped_with_its_alt_text() -> None:
    assert blocks(
        "Een zin ![een foto van de zee](zee.jpg) met een beeld.\n\n"
        "![Alleen een beeld](alleen.png)\n\n"
        "[![gelinkt beeld](klein.png)](https://example.nl/groot.png)\n\n"
        "Einde.\n"
    ) == (
        Block("paragraph", "Een zin met een beeld."),
        Block("paragraph", "Einde."),
    )


def test_code_stays_as_a_paragraph() -> None:
    assert blocks(
        "Een fence:\n\n```text\nadem in\nadem uit\n```\n\n"
        "    Een alinea die per ongeluk is ingesprongen.\n\n"
        "Met `inline code` erin.\n"
    ) == (
        Block("paragraph", "Een fence:"),
        Block("paragraph", "adem in adem uit"),
        Block("paragraph", "Een alinea die per ongeluk is ingesprongen."),
        Block("paragraph", "Met inline code erin."),
    )


def test_table_cells_become_paragraphs_and_rules_vanish() -> None:
    assert blocks(
        "| Wat | Hoe |\n|-----|-----|\n| Adem | Rustig |\n\n***\n\nIk was ~~moe~~ op.\n"
    ) == (
        Block("paragraph", "Wat"),
        Block("paragraph", "Hoe"),
        Block("paragraph", "Adem"),
        Block("paragraph", "Rustig"),
        Block("paragraph", "Ik was moe op."),
    )


POST = """\
+++
title = "Loslaten begint bij voelen"
+++

Loslaten begint bij voelen
==========================

Een alinea over rust.

Waar het begint
---------------

1. Stilstaan
   - een keer per uur
2. Voelen

Groet,\\
Gerrit
"""


def test_posts_parse_prints_the_blocks_of_a_markdown_post(tmp_path: Path) -> None:
    newsletter = NewsletterCli(f"sqlite:///{tmp_path}/never.db", tmp_path)
    path = newsletter.post_file("loslaten.md", POST)
    post = json.loads(newsletter.ok("posts", "parse", str(path), "--json"))
    assert post["title"] == "Loslaten begint bij voelen"
    assert post["blocks"] == [
        {"type": "paragraph", "text": "Een alinea over rust."},
        {"type": "heading", "text": "Waar het begint"},
        {"type": "list", "text": "", "items": ["Stilstaan", "een keer per uur", "Voelen"]},
    ]
    assert not (tmp_path / "never.db").exists()
