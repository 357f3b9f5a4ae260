"""content/assemble: the work every source format shares once its text is cut into units;
where the article ends, and the blog's own sections read into their fields."""

from __future__ import annotations

from newsletter.content.assemble import Unit, article_end, assemble, drop_furniture
from newsletter.content.post import Block, QuestionAnswer


def paragraphs(*texts: str) -> list[Unit]:
    return [Unit("paragraph", text) for text in texts]


def test_the_article_ends_at_the_sign_off_or_the_sites_faq() -> None:
    assert article_end(["Tekst.", "Groet,", "Gerrit", "Veelgestelde vragen"]) == 1
    assert article_end(["Tekst.", "Meer algemene vragen over rust", "Vraag?"]) == 1
    assert article_end(["Tekst.", "Nog meer tekst."]) == 2


def test_an_faq_after_the_sign_up_box_is_the_sites_and_before_it_the_articles() -> None:
    box = "Ontvang wekelijks inspiratie in je mailbox"
    assert article_end(["Tekst.", box, "Veelgestelde vragen over rust"]) == 2
    assert article_end(["Tekst.", "Veelgestelde vragen over rust", box]) == 3


def test_whitespace_is_cleaned_before_anything_is_recognised() -> None:
    body = assemble([Unit("paragraph", "Een\u00a0 alinea  met\tgaten."), Unit("line", " Groet, ")])
    assert body.blocks == (Block("paragraph", "Een alinea met gaten."),)


def test_the_three_questions_are_read_into_their_field() -> None:
    body = assemble(
        [
            *paragraphs("Inleiding.", "Drie vragen om even bij stil te staan"),
            Unit("list", items=("Wat voel je nu? → Rust.", "Wat laat je los? → Haast.")),
            *paragraphs("Daarna verder."),
        ]
    )
    assert body.questions == (
        QuestionAnswer("Wat voel je nu?", "Rust."),
        QuestionAnswer("Wat laat je los?", "Haast."),
    )
    assert body.blocks == (Block("paragraph", "Inleiding."), Block("paragraph", "Daarna verder."))


def test_an_faq_keeps_the_authors_title_and_cuts_glued_questions() -> None:
    body = assemble(
        paragraphs(
            "Veelgestelde vragen over innerlijke rust",
            "Wat is innerlijke rust? Ruimte in je hoofd.",
            "Hoe vind ik die? Door minder te willen.",
        )
    )
    assert body.faq_heading == "Veelgestelde vragen over innerlijke rust"
    assert body.faq == (
        QuestionAnswer("Wat is innerlijke rust?", "Ruimte in je hoofd."),
        QuestionAnswer("Hoe vind ik die?", "Door minder te willen."),
    )
    assert body.blocks == ()


def test_a_testimonial_goes_with_its_attribution() -> None:
    units = paragraphs("Voor.", "“Dit hielp me enorm.”", "— Inge, crediteurenbeheer", "Na.")
    assert drop_furniture(units) == paragraphs("Voor.", "Na.")
