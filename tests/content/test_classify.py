"""The line classification shared by all formats, on the forms the blog's pages use."""

from __future__ import annotations

import pytest

from newsletter.content.classify import (
    ReadMoreSplit,
    clean_text,
    is_furniture,
    is_newsletter_plug,
    looks_like_heading,
    prompt_text,
    quote_text,
    split_glued_items,
    split_read_more,
)
from newsletter.content.markdown import parse_markdown
from newsletter.content.post import Block, QuestionAnswer
from newsletter.content.scraped import parse_scraped


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "…keuzes helderder maakt.Lees verder: Waarom vertragen belangrijk is voor je gezondheid",
            ReadMoreSplit("…keuzes helderder maakt.", "Waarom vertragen belangrijk is voor je gezondheid", ""),
        ),
        (
            "Lees verder hoe het werkt. Lees verder: Jezelf ontwikkelen: De Sleutel tot een Vervuld Leven",
            ReadMoreSplit("Lees verder hoe het werkt.", "Jezelf ontwikkelen: De Sleutel tot een Vervuld Leven", ""),
        ),
        (
            "Wil je meer? Lees meer in: Ontspannen lukt niet — rust begint wanneer jij stopt. In dat blog ontdek je meer.",
            ReadMoreSplit("Wil je meer?", "Ontspannen lukt niet — rust begint wanneer jij stopt", "In dat blog ontdek je meer."),
        ),
        (
            "Lees meer in: Angst voor eerlijke vragen aan jezelf — blijf je wegkijken?",
            ReadMoreSplit("", "Angst voor eerlijke vragen aan jezelf — blijf je wegkijken?", ""),
        ),
        (
            "Lees ook Ben jij je eigen beste vriend of vriendin? — over hoe je de relatie verdiept.",
            ReadMoreSplit("", "Ben jij je eigen beste vriend of vriendin?", ""),
        ),
        (
            '👉 Lees in "Loslaten van emotionele bagage: Maak ruimte voor rust" hoe je lasten loslaat.',
            ReadMoreSplit("", "Loslaten van emotionele bagage: Maak ruimte voor rust", ""),
        ),
    ],
    ids=["glued", "two-lees-verder", "sentence-after", "question-title", "lees-ook", "quoted"],
)  # fmt: skip
def test_cross_references_are_cut_out(text: str, expected: ReadMoreSplit) -> None:
    assert split_read_more(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Lees verder hoe zelfontwikkeling je terugbrengt naar jezelf.",
        "Ik lees ook graag boeken over rust.",
        "Lees verder:",
        "Lees ook deze artikelen:",
        "Bloemlezing: Lees",
    ],
)
def test_prose_about_reading_is_no_cross_reference(text: str) -> None:
    assert split_read_more(text) is None


def test_glued_related_entries_are_cut_apart() -> None:
    assert split_glued_items("Ontdek hoe een knuffel helpt. - De Kracht van Kernwaarden") == [
        "Ontdek hoe een knuffel helpt.",
        "- De Kracht van Kernwaarden",
    ]
    assert split_glued_items("…in je dagelijks leven.Spanning loslaten: Vind rust") == [
        "…in je dagelijks leven.",
        "Spanning loslaten: Vind rust",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"Echte kracht is stil. Ze fluistert je terug naar huis."', "Echte kracht is stil. Ze fluistert je terug naar huis."),
        ("“Zachtheid is geen zwakte.”", "Zachtheid is geen zwakte."),
        ("“Ik moet,” zegt ze, “sterk zijn.”", None),
        ("Hij zei: “Wacht even.”", None),
        ("‘niet lastig wilt zijn’", None),
    ],
)  # fmt: skip
def test_pull_quotes(text: str, expected: str | None) -> None:
    assert quote_text(text) == expected


def test_prompts_lose_their_bulb() -> None:
    assert prompt_text("💡 Wat houd jij nog vast?") == "Wat houd jij nog vast?"
    assert prompt_text("💡") is None
    assert prompt_text("Wat houd jij nog vast?") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wat innerlijke kracht werkelijk is — en waarom ze zoveel rust brengt", True),
        ("Wat belemmert ontspanning?", True),
        ("Conclusie: Vrijheid door Zachtheid", True),
        ("1. Stilstaan bij jezelf", True),
        ("Herkenbaar?", False),
        ("En precies daar wordt het stil.", False),
        ("Gedachten als:", False),
        ("klinken misschien redelijk", False),
        ("Wat je loslaat, maakt ruimte vrij. Maar wat houd je dan eigenlijk vast?", False),
        ("💡 Wat merk je?", False),
        ("- een lijstje", False),
    ],
)
def test_heading_shape(text: str, expected: bool) -> None:
    assert looks_like_heading(text) is expected


@pytest.mark.parametrize(
    "text",
    [
        "Vind het inzicht dat jou vandaag verder brengt",
        "Tip: gebruik 1-2 woorden. Klik op 'Zoek jouw thema in de blogs' of druk op Enter.",
        "WEKELIJKS EEN HELDER MOMENT VAN RUST EN RICHTING.",
        "Begin met loslaten, stap voor stap →",
        "🔗 Meer weten? Klik hier.",
        "Leer meer op:",
        "https://www.gerritvanderheide.com/wetenschappelijke-voordelen-van-loslaten/",
        "13 min",
        "",
    ],
)
def test_furniture_lines(text: str) -> None:
    assert is_furniture(clean_text(text))


def test_newsletter_plugs_are_short_weekly_mail_lines() -> None:
    assert is_newsletter_plug("Eén keer per week een blog die niet vraagt om actie.")
    assert not is_newsletter_plug("Ik wandel elke week een uur, zonder telefoon.")
    assert not is_newsletter_plug("Elke week een blog lezen " + "en heel lang doorpraten " * 10)


def test_clean_text_folds_every_kind_of_space() -> None:
    assert clean_text("\u00a0 Lees\u00a0verder:\u200b  Titel \t\u00a0") == "Lees verder: Titel"


def test_clean_text_drops_control_characters_from_every_format() -> None:
    """An ESC in a title would reach the terminal of `posts parse` and the subject line;
    format characters sit inside words (a soft hyphen) or reorder them (an RLO)."""
    assert clean_text("Boos \x1b[31mrood\x1b[0m\x00 \x07titel\x9b") == "Boos [31mrood [0m titel"
    assert clean_text("ont\u00adspanning \u202eRust\u202c\u2066!\u2069") == "ontspanning Rust!"
    markdown = '+++\ntitle = "Boos \\u001b[2Jtitel"\n+++\n\nEen \x1balinea.\n'
    post = parse_markdown(markdown, source="boos.md")
    assert (post.title, post.blocks[0].text) == ("Boos [2Jtitel", "Een alinea.")


def test_faq_with_questions_on_their_own_lines_and_a_quote_after_it() -> None:
    post = parse_scraped(
        "Titel\nLead.\nEen alinea.\n"
        "Veelgestelde vragen over rust\n"
        "Wat is rust?\nRust is ruimte.\nEn nog een alinea antwoord.\n"
        "Hoe begin ik?\nKlein.\n"
        '"Een slotcitaat."\n',
        source="faq.txt",
    )
    assert post.faq == (
        QuestionAnswer("Wat is rust?", "Rust is ruimte.\n\nEn nog een alinea antwoord."),
        QuestionAnswer("Hoe begin ik?", "Klein."),
    )
    assert post.blocks[-1] == Block("quote", "Een slotcitaat.")


def test_enumeration_after_a_colon_gives_sub_headings() -> None:
    post = parse_scraped(
        "Titel\nLead.\nWat belemmert rust?\nEr zijn oorzaken:\n"
        "Stress en angst\nZorgen houden je alert.\n"
        "Volle agenda\nGeen ruimte om stil te staan.\n"
        "Voorbeeld: iemand plant alles vol.\n"
        "Een nieuw hoofdstuk\nMet tekst.\n",
        source="e.txt",
    )
    assert [(b.type, b.text) for b in post.blocks] == [
        ("heading", "Wat belemmert rust?"),
        ("paragraph", "Er zijn oorzaken:"),
        ("subheading", "Stress en angst"),
        ("paragraph", "Zorgen houden je alert."),
        ("subheading", "Volle agenda"),
        ("paragraph", "Geen ruimte om stil te staan."),
        ("paragraph", "Voorbeeld: iemand plant alles vol."),
        ("heading", "Een nieuw hoofdstuk"),
        ("paragraph", "Met tekst."),
    ]


def test_testimonial_and_button_with_caption_are_dropped() -> None:
    post = parse_scraped(
        "Titel\nLead.\nEen alinea. Met twee zinnen.\n"
        "“Gerrit hielp me enorm.”\n— Inge, crediteurenbeheer\n"
        "Wil je leren loslaten?\n🔗 Meer weten? Klik hier.\n"
        '"Een echt citaat."\n',
        source="t.txt",
    )
    assert post.blocks == (
        Block("paragraph", "Een alinea. Met twee zinnen."),
        Block("quote", "Een echt citaat."),
    )


def test_related_titles_without_descriptions() -> None:
    post = parse_scraped(
        "Titel\nLead.\nEen alinea.\nOntdek meer...\nLees ook deze artikelen:\n"
        "- Rust in je hoofd\n- Spanning loslaten\nVeelgestelde vragen\nWat? Dit.\n",
        source="r.txt",
    )
    assert post.blocks[-1] == Block(
        "related",
        "Lees ook deze artikelen:",
        ("Rust in je hoofd", "Spanning loslaten"),
        heading="Ontdek meer...",
    )
    assert post.related == ("Rust in je hoofd", "Spanning loslaten")
    assert post.faq == (QuestionAnswer("Wat?", "Dit."),)
    assert post.faq_heading == "Veelgestelde vragen"


@pytest.mark.parametrize(
    ("line", "furniture"),
    [
        ("{{< youtube abc123 >}}", True),
        ("{{% notice info %}}", True),
        ("{% include cta.html %}", True),
        ('[gallery ids="1,2,3"]', True),
        ('{{< figure src="rust.jpg" >}}{{< /figure >}}', True),
        ("[Lees meer]", False),
        ("[1] Een voetnoot.", False),
        ("Kijk {{< youtube abc >}} eens.", False),
    ],
)
def test_unexpanded_template_tags_are_furniture(line: str, furniture: bool) -> None:
    assert is_furniture(line) is furniture


def test_a_markdown_post_loses_its_shortcode_lines() -> None:
    post = parse_markdown(
        "# Rust\n\nEen alinea.\n\n{{< youtube abc123 >}}\n\n{% include cta.html %}\n\nNog een.\n",
        source="rust.md",
    )
    assert [block.text for block in post.blocks] == ["Een alinea.", "Nog een."]
