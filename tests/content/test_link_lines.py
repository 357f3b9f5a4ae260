"""The author's "🔗 Titel – ontdek hier …" line is a read-more link, not site furniture.

Only the form that names an article (a title, a dash, "ontdek …") is a link; a 🔗 line
without a title is still a button whose target the scrape lost, and goes with its
caption. The question line above the link is the link's caption and stays a paragraph,
never a section heading. Perturbed forms (other dashes, spacing, case) read the same.
"""

from __future__ import annotations

import pytest

from newsletter.content.classify import is_furniture, split_read_more
from newsletter.content.post import Block
from newsletter.content.scraped import parse_scraped

PAGE = "Titel\nLead.\nEen alinea. Met twee zinnen.\n{caption}\n{link}\nNog een alinea. Over rust.\n"


@pytest.mark.parametrize(
    "line",
    [
        "🔗 Leer loslaten – ontdek hier hoe jij jouw eerste stap kunt zetten.",
        "🔗 Leer loslaten — ontdek hier hoe jij jouw eerste stap kunt zetten.",
        "🔗 Leer loslaten - ontdek hier hoe jij jouw eerste stap kunt zetten.",
        "🔗Leer loslaten – Ontdek hier hoe jij jouw eerste stap kunt zetten.",
        "🔗  Leer loslaten  –  ontdek het zelf",
    ],
)
def test_a_link_line_names_the_article(line: str) -> None:
    split = split_read_more(line)
    assert split is not None
    assert (split.before, split.title, split.after) == ("", "Leer loslaten", "")
    assert not is_furniture(line)
    post = parse_scraped(PAGE.format(caption="Wil je leren loslaten?", link=line), source="t.txt")
    assert post.blocks == (
        Block("paragraph", "Een alinea. Met twee zinnen."),
        Block("paragraph", "Wil je leren loslaten?"),
        Block("read_more", "Leer loslaten"),
        Block("paragraph", "Nog een alinea. Over rust."),
    )


@pytest.mark.parametrize(
    "line",
    ["🔗 Meer weten? Klik hier.", "🔗 Lees het hele verhaal", "🔗 https://example.nl/x"],
)
def test_a_link_line_without_a_title_is_still_a_lost_button(line: str) -> None:
    assert is_furniture(line)
    post = parse_scraped(PAGE.format(caption="Wil je leren loslaten?", link=line), source="t.txt")
    assert post.blocks == (
        Block("paragraph", "Een alinea. Met twee zinnen."),
        Block("paragraph", "Nog een alinea. Over rust."),
    )


def test_a_question_line_elsewhere_can_still_be_a_heading() -> None:
    """The caption rule only looks at the line right above a 🔗 link."""
    post = parse_scraped(
        PAGE.format(caption="Waarom loslaten zo moeilijk voelt", link="Een alinea erna."),
        source="t.txt",
    )
    assert Block("heading", "Waarom loslaten zo moeilijk voelt") in post.blocks
