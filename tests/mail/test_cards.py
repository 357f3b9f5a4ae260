"""Cards of a busy week: the teaser, and the cards in both parts of an edition that still
passes every deliverability check (SpamAssassin included) with them."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime

import lxml.html
import pytest

from newsletter.content.post import Block
from newsletter.delivery.checks import check_edition, spamassassin_score
from newsletter.mail.cards import TEASER_MAX_CHARS, teaser
from newsletter.mail.message import build_message
from newsletter.mail.render import RenderedEdition, personalise, render_edition
from tests.support.posts import BLOG, busy_week_post, card_posts, make_post, rich_post
from tests.support.readers import recipient_of
from tests.support.settings import make_settings

from .conftest import golden_posts, one_line, visible_text

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


def busy_week() -> RenderedEdition:
    return render_edition(busy_week_post(), make_settings().newsletter, card_posts())


def built(edition: RenderedEdition) -> bytes:
    settings = make_settings()
    reader = recipient_of(settings, 42, "zoe@example.nl", "Zoë", post_slug=edition.post_slug)
    return build_message(edition, reader, settings.newsletter, now=NOW)


@pytest.mark.parametrize(
    ("lead", "expected"),
    [
        ("Kort. Tweede zin hier. Derde niet.", "Kort. Tweede zin hier."),
        ("Eén zin zonder punt", "Eén zin zonder punt"),
        (
            "Een eerste zin die al lang genoeg is om alleen te staan, want hij vertelt al "
            "waar het stuk over gaat. Een tweede zin.",
            "Een eerste zin die al lang genoeg is om alleen te staan, want hij vertelt al "
            "waar het stuk over gaat.",
        ),
        ("Wat\nhoud   jij vast? Dit.", "Wat houd jij vast? Dit."),
    ],
)
def test_the_teaser_is_the_first_sentence_or_two_of_the_lead(lead: str, expected: str) -> None:
    assert teaser(make_post(lead=lead)) == expected


def test_a_long_sentence_is_cut_at_a_word_and_no_lead_falls_back_to_the_opening() -> None:
    long = teaser(make_post(lead="woord " * 100))
    assert len(long) <= TEASER_MAX_CHARS and long.endswith("woord…")
    opening = make_post(lead=None, blocks=(Block("paragraph", "Eerst dit. Dan dat. En zo."),))
    assert teaser(opening) == "Eerst dit. Dan dat."
    for post in golden_posts():
        assert 0 < len(teaser(post)) <= TEASER_MAX_CHARS


def test_cards_come_below_the_article_in_both_parts() -> None:
    edition = busy_week()
    assert edition.card_slugs == ("loslaten-deel-2", "zelfcompassie")
    settings = make_settings()
    reader = recipient_of(settings, 42, "zoe@example.nl", "Zoë", post_slug=edition.post_slug)
    html, text = personalise(edition, reader)
    tree = lxml.html.document_fromstring(html)
    for card in card_posts():
        links = tree.xpath(f"//a[@href='{card.url}']")
        assert [" ".join(a.text_content().split()) for a in links] == [
            card.title,
            "Lees verder op de blog",
        ]
        assert teaser(card) in visible_text(html) and teaser(card) in one_line(text)
        assert card.title in text
    page = visible_text(html)
    assert (
        page.index("Lees dit artikel op de blog")
        < page.index("Ook nieuw op de blog")
        < page.index("Loslaten, deel 2")
        < page.index("Groet,")
    )
    for url in (card_posts()[0].url, card_posts()[1].url):
        assert f"] {url}" in text  # the text part's footnotes
    assert text.index("Ook nieuw op de blog") < text.index("Groet,")


def test_a_card_of_a_post_without_an_address_uses_the_url_template() -> None:
    settings = make_settings(newsletter={"post_url_template": f"{BLOG}/{{slug}}/"})
    edition = render_edition(make_post(), settings.newsletter, [make_post("zonder-adres")])
    assert f'href="{BLOG}/zonder-adres/"' in edition.html


def test_no_cards_no_section() -> None:
    edition = render_edition(rich_post(), make_settings().newsletter)
    assert edition.card_slugs == ()
    assert "Ook nieuw op de blog" not in edition.html + edition.text


def test_a_busy_week_passes_the_deliverability_checks() -> None:
    edition = busy_week()
    report = check_edition(edition, built(edition), make_settings().newsletter.signature)
    assert report.ok, "\n".join(report.lines())
    assert report.lines()[-1].endswith("0 failed, 0 warnings")


def test_spamassassin_scores_a_busy_week_as_clean() -> None:
    if shutil.which("spamassassin") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("spamassassin is not installed, and CI must run this check")
        pytest.skip("spamassassin is not installed")
    result = spamassassin_score(built(busy_week()))
    assert result is not None and result.score <= 0.5, result
