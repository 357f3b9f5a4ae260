"""RSS 2.0 and Atom feeds: WordPress HTML bodies become the same parts as scraped pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newsletter.content.post import Block, QuestionAnswer
from newsletter.errors import ContentError
from newsletter.feeds.entries import parse_feed
from tests.content.helpers import FIXTURES_DIR


def test_rss_entries_become_posts_with_blocks() -> None:
    data = (FIXTURES_DIR / "feed.rss").read_bytes()
    first, second = parse_feed(data, source="feed.rss")

    assert first.title == "Mededogen met jezelf — de kracht van zachtheid"
    assert first.slug == "mededogen-met-jezelf-de-kracht-van-zachtheid"
    assert first.url == "https://www.gerritvanderheide.com/mededogen-met-jezelf/"
    assert first.published_at == datetime(2025, 11, 20, 7, tzinfo=UTC)
    assert first.category == "Jij en Jezelf"
    assert first.lead == (
        "Mededogen met jezelf betekent stoppen met vechten tegen je eigen menselijkheid."
    )
    assert first.source == "feed.rss"
    assert first.questions == (
        QuestionAnswer("Hoe voelt zachtheid in je lichaam?", "Als ruimte in je borst."),
        QuestionAnswer("Welke gedachte mag zachter worden?", "De kritische stem."),
    )
    assert first.blocks == (
        Block(
            "paragraph",
            "In een wereld waarin we sneller moeten zijn, is mildheid bijna radicaal.",
        ),
        Block("prompt", "Wanneer was jij voor het laatst mild voor jezelf?"),
        Block("heading", "Waarom zelfkritiek zo veilig lijkt"),
        Block("paragraph", "Zelfkritiek voelt vertrouwd. Het lijkt een schild tegen afwijzing."),
        Block("quote", "Zachtheid is geen zwakte."),
        Block("subheading", "Een voorbeeld uit het dagelijks leven"),
        Block(
            "list",
            "",
            ("Je zit in een vergadering.", "Je zegt niets, en verwijt het jezelf achteraf."),
        ),
        Block("read_more", "Ben jij je eigen beste vriend of vriendin?"),
        Block(
            "related",
            "Hier zijn enkele andere artikelen:",
            ("De Geneeskracht van Knuffelen", "Rust in je hoofd"),
            heading="Ontdek meer...",
        ),
    )
    assert first.faq_heading == "Veelgestelde vragen over mededogen"
    assert first.faq == (
        QuestionAnswer("Is mededogen hetzelfde als jezelf sparen?", "Nee, het is groeien zonder oordeel."),
        QuestionAnswer("Hoe oefen ik mededogen?", "Begin klein: vervang één oordeel door begrip."),
    )  # fmt: skip

    assert second.title == "Een korte notitie over rust"
    assert second.lead is None  # the description is the body here, not a lead
    assert second.blocks == (
        Block(
            "paragraph", "Rust is geen beloning. Het is een keuze die je elke dag opnieuw maakt."
        ),
    )


def test_atom_entry_becomes_a_post_with_blocks() -> None:
    (post,) = parse_feed((FIXTURES_DIR / "feed.atom").read_text("utf-8"), source="feed.atom")
    assert post.title == "Innerlijke rust begint van binnenuit"
    assert post.url == "https://www.gerritvanderheide.com/innerlijke-rust/"
    assert post.published_at == datetime(2025, 11, 13, 7, tzinfo=UTC)
    assert post.category == "Jij en Loslaten"
    assert post.lead == "Rust ontstaat niet buiten je, maar in hoe je met jezelf omgaat."
    assert post.blocks == (
        Block("heading", "Waar rust begint"),
        Block("paragraph", "Rust begint waar je stopt met jezelf opjagen."),
        Block("list", "", ("ademen", "voelen")),
        Block("paragraph", "Innerlijke kracht vraagt om minder snelheid."),
        Block("read_more", "Waarom vertragen belangrijk is voor je gezondheid"),
    )


def test_a_string_is_parsed_never_opened_as_a_url_or_file() -> None:
    with pytest.raises(ContentError, match="not an RSS or Atom feed"):
        parse_feed(str(FIXTURES_DIR / "feed.rss"), source="naam")


@pytest.mark.parametrize(
    "data",
    [b"", b"gewoon tekst", b"<html><body><p>Geen feed</p></body></html>", b"<rss><channel"],
    ids=["empty", "text", "html", "broken-xml"],
)
def test_a_document_that_is_no_feed_is_a_content_error(data: bytes) -> None:
    with pytest.raises(ContentError) as raised:
        parse_feed(data, source="https://example.org/feed/")
    assert raised.value.source == "https://example.org/feed/"


def test_an_entry_without_text_is_a_content_error() -> None:
    feed = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>Leeg</title><link>https://x.nl/leeg/</link></item></channel></rss>"
    )
    with pytest.raises(ContentError, match=r"entry 1 \('Leeg', https://x.nl/leeg/\): no article"):
        parse_feed(feed, source="feed.xml")


def test_an_item_with_only_its_full_text_has_no_lead_that_repeats_the_article() -> None:
    """feedparser gives an item without a description its content as the summary; taken as
    the lead it printed the whole article twice."""
    feed = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>Blog</title><link>https://blog.example.org/</link><description>x</description>
<item><title>Over boeken lezen</title><link>https://blog.example.org/boeken/</link>
<content:encoded><![CDATA[<p>Ik lees elke avond een half uur.</p><h2>Welke boeken</h2>
<p>Vooral romans.</p>]]></content:encoded></item>
<item><title>Over slapen</title><link>https://blog.example.org/slapen/</link>
<description>Goed slapen is de basis van alles.</description>
<content:encoded><![CDATA[<p>Goed slapen is de basis van alles.</p><p>Meer.</p>]]></content:encoded>
</item></channel></rss>"""
    only_content, excerpt_is_first_paragraph = parse_feed(feed, source="feed")
    assert only_content.lead is None
    assert only_content.blocks[0] == Block("paragraph", "Ik lees elke avond een half uur.")
    assert excerpt_is_first_paragraph.lead is None
