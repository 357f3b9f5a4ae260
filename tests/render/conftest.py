"""Fixtures for the render tests: settings with a secret, a hand-made post, the five real posts.

The real posts come from the parser's golden JSON files (``tests/content/golden``), so these
tests follow whatever the parser makes of the blog. Until those files exist the hand-made
post, which has every block type, stands in for them.
"""

from __future__ import annotations

import json
from pathlib import Path

import lxml.html
import pytest

from newsletter.config import NewsletterSection, Secret, Settings
from newsletter.content.post import Block, Post, QuestionAnswer

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "content" / "golden"
SECRET = "test-secret-key-for-render-tests"


def make_settings(**newsletter: object) -> Settings:
    values: dict[str, object] = {
        "base_url": "https://nieuwsbrief.gerritvanderheide.com",
        "from_address": "nieuwsbrief@gerritvanderheide.com",
        "list_id": "nieuwsbrief.gerritvanderheide.com",
        **newsletter,
    }
    section = NewsletterSection(**values)  # type: ignore[arg-type]
    return Settings(newsletter=section, secret_key=Secret(SECRET))


def sample_post() -> Post:
    """A short post with one block of every type, in the blog's own voice."""
    return Post(
        slug="innerlijke-rust",
        title="Innerlijke rust: thuiskomen in jezelf — ook als het schuurt",
        source="handmade",
        category="Jij en Jezelf",
        reading_minutes=6,
        lead="Rust ontstaat niet door harder te werken, maar door te voelen wat je vasthoudt.",
        questions=(
            QuestionAnswer(
                "Waar voel jij spanning in je lijf?", "Je lijf weet het eerder dan je hoofd."
            ),
            QuestionAnswer(
                "Welke gedachte keert steeds terug?", "Herhaling wijst op een oud patroon."
            ),
            QuestionAnswer("Welke kleine stap kies je vandaag?", "Eén stap is genoeg."),
        ),
        blocks=(
            Block("paragraph", "In een drukke wereld vergeten we soms waar rust begint."),
            Block("quote", '"Echte kracht is stil. Ze fluistert je terug naar huis."'),
            Block("heading", "Wat rust werkelijk is — en waarom ze ruimte geeft"),
            Block("paragraph", "Voorbeeld: Je zit in een overleg en je lichaam trekt samen."),
            Block("prompt", "💡 Wanneer voelde jij voor het laatst wat je lichaam zei?"),
            Block("list", "", ("uitstelgedrag", "vermijding van keuzes", "een gevoel van leegte")),
            Block("subheading", "1. Stilstaan bij jezelf"),
            Block("paragraph", "Een paar keer per dag één diepe ademhaling kan al genoeg zijn."),
            Block("read_more", "Waarom vertragen belangrijk is voor je gezondheid"),
            Block(
                "related",
                "Hier zijn enkele artikelen die je verder helpen:",
                ("Loslaten in 3 stappen", "Zelfcompassie"),
            ),
        ),
        faq=(
            QuestionAnswer(
                "Hoe herken ik dat ik niet vanuit rust leef?",
                "Je merkt het wanneer je meer reageert dan kiest.",
            ),
        ),
    )


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
    return [*golden_posts(), sample_post()]


def visible_text(document: str) -> str:
    """The text a reader sees in an HTML document, whitespace collapsed."""
    tree = lxml.html.document_fromstring(document)
    for hidden in tree.xpath("//head | //style | //script"):
        hidden.drop_tree()
    return " ".join(tree.text_content().split())


def one_line(text: str) -> str:
    return " ".join(text.split())
