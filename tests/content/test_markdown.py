"""Markdown posts with TOML or YAML front matter give the same parts as the blog's pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from newsletter.content.markdown import parse_markdown
from newsletter.content.post import Block, QuestionAnswer
from newsletter.errors import ContentError

from .helpers import FIXTURES_DIR

EXPECTED_BLOCKS = (
    Block("paragraph", "Loslaten is geen trucje, maar een beweging die je steeds opnieuw maakt."),
    Block("heading", "Waar het begint"),
    Block("paragraph", "Je merkt het eerst in je lijf:"),
    Block("list", "", ("een hoge adem", "gespannen kaken", "druk op je borst")),
    Block("quote", "Echte kracht is stil."),
    Block("prompt", "Wat merk jij nu in je lichaam?"),
    Block("subheading", "1. Stilstaan"),
    Block("paragraph", "Een paar keer per dag bewust ademen. Dat is al genoeg."),
    Block("read_more", "Waarom vertragen belangrijk is voor je gezondheid"),
    Block("related", "", ("De kracht van zachtheid", "Rust in je hoofd"), "Ontdek meer..."),
)
EXPECTED_QUESTIONS = (
    QuestionAnswer("Waar voel jij spanning als eerste?", "Vaak in je schouders of je kaken."),
    QuestionAnswer("Wat houd je eigenlijk vast?", "Meestal een oude overtuiging."),
)
EXPECTED_FAQ = (
    QuestionAnswer(
        "Is loslaten hetzelfde als opgeven?", "Nee. Het is stoppen met vechten tegen wat er al is."
    ),
    QuestionAnswer("Hoe begin ik?", "Met één bewuste ademhaling."),
)


@pytest.mark.parametrize("name", ["toml_post.md", "yaml_post.md"])
def test_front_matter_post_parses_to_the_expected_parts(name: str) -> None:
    path = FIXTURES_DIR / name
    post = parse_markdown(path.read_text(encoding="utf-8"), source=str(path))
    assert post.blocks == EXPECTED_BLOCKS
    assert post.questions == EXPECTED_QUESTIONS
    assert post.faq == EXPECTED_FAQ
    assert post.faq_heading == "Veelgestelde vragen over loslaten"
    assert post.related == ("De kracht van zachtheid", "Rust in je hoofd")
    assert post.title == "Loslaten begint bij voelen"
    assert post.slug == "loslaten-begint-bij-voelen"
    assert post.lead == "Waar loslaten begint: niet in je hoofd, maar in je lijf."
    assert post.category == "Jij en Loslaten"
    assert post.source == str(path)


def test_front_matter_dates_become_aware_datetimes() -> None:
    toml = parse_markdown((FIXTURES_DIR / "toml_post.md").read_text("utf-8"), source="t.md")
    yaml = parse_markdown((FIXTURES_DIR / "yaml_post.md").read_text("utf-8"), source="y.md")
    assert toml.published_at == datetime(2025, 11, 20, tzinfo=UTC)
    assert yaml.published_at == datetime(2025, 11, 20, 8, tzinfo=timezone(timedelta(hours=1)))


def test_title_may_come_from_the_first_heading() -> None:
    post = parse_markdown("# Rust in je hoofd\n\nEen alinea.\n", source="r.md")
    assert (post.title, post.slug) == ("Rust in je hoofd", "rust-in-je-hoofd")
    assert post.blocks == (Block("paragraph", "Een alinea."),)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("---\ntitle: Goed\nlead: [niet gesloten\ncategory: Jij\n---\nTekst.\n", 4, "YAML"),
        ("---\ntitle: Goed\n  lead: fout: x\n---\nTekst.\n", 3, "YAML"),
        ('+++\ntitle = "Goed"\nlead = \n+++\nTekst.\n', 3, "TOML"),
        ("---\ntitle: Goed\nTekst.\n", 1, "never closed"),
        ("---\n- a\n- b\n---\nTekst.\n", 2, "set of keys"),
        ("---\ntitle: Goed\ncategory: 12\n---\nTekst.\n", 3, "'category' must be text"),
        ("---\ntitle: Goed\ndate: gisteren\n---\nTekst.\n", 3, "not an ISO date"),
        ("---\nlead: Alleen een lead.\n---\nTekst.\n", 1, "no title"),
        ("+++\ntitle = 'Leeg'\n+++\n\n", 4, "no article text"),
    ],
    ids=[
        "yaml-syntax", "yaml-indent", "toml-syntax", "unclosed", "not-a-mapping",
        "wrong-type", "bad-date", "no-title", "no-body",
    ],
)  # fmt: skip
def test_malformed_post_names_file_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(ContentError) as raised:
        parse_markdown(text, source="posts/kapot.md")
    assert raised.value.source == "posts/kapot.md"
    assert raised.value.line == line
    assert str(raised.value).startswith(f"posts/kapot.md:{line}: ")
    assert message in str(raised.value)


def test_inline_markup_is_reduced_to_text() -> None:
    post = parse_markdown(
        "# T\n\nEen **vette**, _schuine_ en `code` [link](https://x.nl) ![beeld](b.png) zin.\n"
        "Met snake_case_woord en 2 * 3 * 4.\n",
        source="i.md",
    )
    assert post.blocks == (
        Block(
            "paragraph", "Een vette, schuine en code link zin. Met snake_case_woord en 2 * 3 * 4."
        ),
    )
