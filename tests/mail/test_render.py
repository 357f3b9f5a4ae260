"""The rendered edition of every real post: content, safety, size, inlined CSS, excerpts."""

from __future__ import annotations

import logging
import re
from dataclasses import replace

import lxml.html
import pytest

from newsletter.config import Settings
from newsletter.content.classify import split_example
from newsletter.content.post import Block, Post, QuestionAnswer
from newsletter.errors import ConfigError, RenderError
from newsletter.mail.render import (
    MAX_HTML_BYTES,
    PLACEHOLDERS,
    Recipient,
    RenderedEdition,
    excerpt_blocks,
    personalise,
    post_url,
    render_edition,
)
from newsletter.mail.text import underline
from newsletter.mail.tokens import read_token
from tests.support.posts import rich_post
from tests.support.readers import recipient_of
from tests.support.settings import SECRET, make_settings

from .conftest import golden_posts, one_line, posts_under_test, visible_text

POSTS = posts_under_test()
SITE_FURNITURE = (
    "Wekelijks een helder moment",
    "Vind het inzicht",
    "Ontvang wekelijks",
    "Zoek jouw thema",
    "Tip: gebruik 1–2 woorden",
    "Veelgestelde vragen over Jij en Jezelf",
)


@pytest.fixture(scope="module")
def editions() -> dict[str, RenderedEdition]:
    settings = make_settings()
    return {post.slug: render_edition(post, settings.newsletter) for post in POSTS}


def personalised(
    edition: RenderedEdition, settings: Settings, subscriber_id: int = 42
) -> tuple[str, str]:
    recipient = recipient_of(
        settings, subscriber_id, "zoe@example.nl", "Zoë", post_slug=edition.post_slug
    )
    return personalise(edition, recipient)


def displayed(text: str) -> str:
    """A prompt or quote as the email shows it: the templates add the 💡 themselves."""
    return one_line(text.strip().removeprefix("💡"))


def key_texts(post: Post) -> list[str]:
    texts = [b.text for b in post.blocks if b.type in ("heading", "subheading", "prompt")]
    texts += [q.question for q in (*post.questions, *post.faq)]
    return [displayed(t) for t in texts if t.strip()]


by_slug = pytest.mark.parametrize("post", POSTS, ids=[p.slug for p in POSTS])


def test_the_five_real_posts_are_under_test() -> None:
    assert len(golden_posts()) == 5, (
        "the parser's golden files are missing from tests/content/golden"
    )


@by_slug
def test_signature_appears_exactly_once_in_each_part(
    post: Post, editions: dict[str, RenderedEdition], settings: Settings
) -> None:
    html, text = personalised(editions[post.slug], settings)
    assert html.count("Groet,<br>Gerrit") == 1
    assert text.count("Groet,\nGerrit") == 1
    # ... and no second sign-off left over from the blog page.
    assert visible_text(html).count("Groet,") == 1
    assert text.count("Groet,") == 1


@by_slug
def test_no_site_furniture(
    post: Post, editions: dict[str, RenderedEdition], settings: Settings
) -> None:
    html, text = personalised(editions[post.slug], settings)
    for furniture in SITE_FURNITURE:
        assert furniture not in html
        assert furniture not in text


@by_slug
def test_every_heading_prompt_and_question_is_in_both_parts(
    post: Post, editions: dict[str, RenderedEdition], settings: Settings
) -> None:
    html, text = personalised(editions[post.slug], settings)
    html_text, plain = visible_text(html), one_line(text)
    expected = key_texts(post)
    assert len(expected) >= 4
    for phrase in expected:
        assert phrase in html_text, phrase
        assert phrase in plain, phrase


@by_slug
def test_the_authors_section_titles_are_kept(
    post: Post, editions: dict[str, RenderedEdition], settings: Settings
) -> None:
    """The author's "Veelgestelde vragen over …" and "Ontdek meer..." as written; generic labels
    only for a post without its own titles (the hand-made one)."""
    html, text = personalised(editions[post.slug], settings)
    tree = lxml.html.document_fromstring(html)
    titles = [one_line(h.text_content()) for h in tree.xpath("//h2 | //h3")]
    related = [b for b in post.blocks if b.type == "related"]
    if post.faq:
        expected_faq = post.faq_heading or "Veelgestelde vragen"
        assert expected_faq in titles
        assert underline(expected_faq, "-") in text
    for block in related:
        expected_related = block.heading or "Meer om te lezen"
        assert expected_related in titles
        assert underline(expected_related, "-") in text
    if post.faq_heading:
        assert "Veelgestelde vragen" not in titles
    if related and all(block.heading for block in related):
        assert "Meer om te lezen" not in titles and "Meer om te lezen" not in text


def test_seed_posts_bring_their_own_section_titles() -> None:
    posts = {post.slug: post for post in golden_posts()}
    assert all(post.faq_heading for post in posts.values())
    related = [b for post in posts.values() for b in post.blocks if b.type == "related"]
    assert len(related) == 2 and {b.heading for b in related} == {"Ontdek meer..."}


@by_slug
def test_parts_keep_the_same_order(
    post: Post, editions: dict[str, RenderedEdition], settings: Settings
) -> None:
    html, text = personalised(editions[post.slug], settings)
    html_text, plain = visible_text(html), one_line(text)
    headings = [one_line(b.text) for b in post.blocks if b.type == "heading"]
    assert [html_text.index(h) for h in headings] == sorted(html_text.index(h) for h in headings)
    assert [plain.index(h) for h in headings] == sorted(plain.index(h) for h in headings)


@by_slug
def test_unsubscribe_link_is_signed_and_differs_per_subscriber(
    post: Post, editions: dict[str, RenderedEdition], settings: Settings
) -> None:
    edition = editions[post.slug]
    links = []
    for subscriber_id in (7, 8):
        html, text = personalised(edition, settings, subscriber_id)
        tree = lxml.html.document_fromstring(html)
        [href] = tree.xpath("//a[normalize-space(text())='Afmelden']/@href")
        assert href.startswith("https://nieuwsbrief.gerritvanderheide.com/unsubscribe/")
        assert f"Afmelden: {href}" in text
        token = href.rsplit("/", 1)[1]
        assert read_token(SECRET, "unsubscribe", token) == subscriber_id
        [browser] = tree.xpath("//a[normalize-space(text())='Bekijk in je browser']/@href")
        assert browser == f"https://nieuwsbrief.gerritvanderheide.com/archive/{post.slug}"
        links.append(href)
    assert links[0] != links[1]


@by_slug
def test_the_readers_own_page_is_linked_next_to_afmelden(
    post: Post, editions: dict[str, RenderedEdition], settings: Settings
) -> None:
    html, text = personalised(editions[post.slug], settings, 7)
    tree = lxml.html.document_fromstring(html)
    [href] = tree.xpath("//a[normalize-space(text())='Instellingen']/@href")
    assert href.startswith("https://nieuwsbrief.gerritvanderheide.com/manage/")
    assert read_token(SECRET, "manage", href.rsplit("/", 1)[1]) == 7
    assert f"Pauzeren, ander adres of naam: {href}\nAfmelden: " in text
    [footer] = tree.xpath("//a[normalize-space(text())='Afmelden']/..")
    assert "Instellingen" in footer.text_content()


@by_slug
def test_html_stays_under_the_gmail_clip_limit(
    post: Post, editions: dict[str, RenderedEdition], settings: Settings
) -> None:
    html, _ = personalised(editions[post.slug], settings)
    assert len(html.encode("utf-8")) < MAX_HTML_BYTES


@by_slug
def test_css_is_inlined_and_only_media_rules_remain(
    post: Post, editions: dict[str, RenderedEdition], settings: Settings
) -> None:
    html, _ = personalised(editions[post.slug], settings)
    tree = lxml.html.document_fromstring(html)
    [style] = tree.xpath("//style")
    assert strip_media_rules(style.text or "").strip() == ""
    assert "@media only screen and (max-width: 620px)" in style.text
    assert "@media (prefers-color-scheme: dark)" in style.text
    for element in tree.xpath("//body//*[@class]"):
        if element.get("class") not in ("serif",):
            assert element.get("style"), lxml.html.tostring(element)[:120]


def strip_media_rules(css: str) -> str:
    """The CSS with every @media block (and its nested braces) removed."""
    out: list[str] = []
    index = 0
    while index < len(css):
        if css.startswith("@media", index):
            index = css.index("{", index) + 1
            depth = 1
            while depth:
                depth += {"{": 1, "}": -1}.get(css[index], 0)
                index += 1
            continue
        out.append(css[index])
        index += 1
    return "".join(out)


@by_slug
def test_email_safe_markup(post: Post, editions: dict[str, RenderedEdition]) -> None:
    html = editions[post.slug].html
    tree = lxml.html.document_fromstring(html)
    assert tree.get("lang") == "nl"
    assert tree.xpath("//meta[@name='color-scheme']/@content") == ["light dark"]
    assert tree.xpath("//meta[@name='supported-color-schemes']/@content") == ["light dark"]
    assert not tree.xpath("//img | //script | //link | //iframe | //form")
    assert "max-width:600px" in html and "width:100%" in html
    for banned in ("display:flex", "display:grid", "var(", "position:"):
        assert banned not in html.replace(" ", "")
    wrapper = tree.xpath("//table[contains(@class, 'wrapper')]")[0]
    assert "background-color" in wrapper.get("style")
    footer = visible_text(html)
    assert "Je ontvangt deze e-mail omdat je je hebt aangemeld voor" in footer


@by_slug
def test_preheader_is_hidden_and_comes_first(
    post: Post, editions: dict[str, RenderedEdition]
) -> None:
    edition = editions[post.slug]
    tree = lxml.html.document_fromstring(edition.html)
    first = tree.xpath("//body/*[1]")[0]
    assert first.text == edition.preheader
    assert "display:none" in first.get("style").replace(" ", "")
    assert edition.preheader and len(edition.preheader) <= 140
    first_paragraph = next(b.text for b in post.blocks if b.type == "paragraph")
    source = post.lead or (post.questions[0].question if post.questions else first_paragraph)
    assert one_line(source).startswith(edition.preheader.removesuffix("…"))


@by_slug
def test_subject_is_the_headline(post: Post, editions: dict[str, RenderedEdition]) -> None:
    assert editions[post.slug].subject == one_line(post.title)
    assert not editions[post.slug].excerpt


# --- plain text -------------------------------------------------------------------------


@by_slug
def test_text_is_wrapped_and_has_footnotes(
    post: Post, editions: dict[str, RenderedEdition], settings: Settings
) -> None:
    _, text = personalised(editions[post.slug], settings)
    lines = text.splitlines()
    long_lines = [line for line in lines if len(line) > 72 and "https://" not in line]
    assert long_lines == []
    title_at = lines.index(post.title) if post.title in lines else None
    if title_at is not None:
        assert lines[title_at + 1] == "=" * len(post.title)
    references = {int(n) for n in re.findall(r"\[(\d+)\](?!\s+https?://)", text)}
    listed = {int(n) for n in re.findall(r"^\[(\d+)\] https?://\S+$", text, re.MULTILINE)}
    assert references == listed
    assert listed == set(range(1, len(listed) + 1))


def test_text_layout_of_the_handmade_post(settings: Settings) -> None:
    edition = render_edition(rich_post(), settings.newsletter)
    _, text = personalised(edition, settings)
    assert text.startswith("Hoi Zoë,\n\n")
    assert "Innerlijke rust: thuiskomen in jezelf — ook als het schuurt\n" + "=" * 59 in text
    assert "Wat rust werkelijk is — en waarom ze ruimte geeft\n" + "-" * 49 in text
    assert (
        "1. Waar voel jij spanning in je lijf?\n   → Je lijf weet het eerder dan je hoofd." in text
    )
    assert "- uitstelgedrag\n- vermijding van keuzes\n" in text
    assert "💡 Wanneer voelde jij voor het laatst wat je lichaam zei?" in text
    assert "    “Echte kracht is stil. Ze fluistert je terug naar huis.”" in text
    assert "Lees ook: Waarom vertragen belangrijk is voor je gezondheid [1]" in text
    assert "[1] https://www.gerritvanderheide.com/?s=Waarom%20vertragen%20belangrijk" in text
    assert "Meer om te lezen\n----------------\n\nHier zijn enkele artikelen" in text
    assert "- Zelfcompassie [3]" in text
    assert text.index("Groet,\nGerrit") < text.index("Links:") < text.index("Afmelden: https://")
    assert "\n\n\n" not in text


# --- personalisation and escaping --------------------------------------------------------


def test_greeting_uses_the_name_when_known(settings: Settings) -> None:
    edition = render_edition(rich_post(), settings.newsletter)
    for name, greeting in (
        ("Zoë", "Hoi Zoë,"),
        (None, "Hoi,"),
        ("  ", "Hoi,"),
        ("Anna\r\n", "Hoi Anna,"),
    ):
        recipient = recipient_of(settings, 1, "a@example.nl", name, post_slug=edition.post_slug)
        html, text = personalise(edition, recipient)
        assert f">{greeting}</p>" in html
        assert text.startswith(greeting + "\n")
        for placeholder in PLACEHOLDERS:
            assert placeholder not in html and placeholder not in text


def test_hostile_names_are_escaped_in_html(settings: Settings) -> None:
    edition = render_edition(rich_post(), settings.newsletter)
    name = "Zoë 王 <script>alert(1)</script> \"quoted\" & 'single'\r\nBcc: evil@example.com"
    recipient = recipient_of(settings, 1, "zoe@example.nl", name, post_slug=edition.post_slug)
    html, text = personalise(edition, recipient)
    assert "<script" not in html
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &quot;quoted&quot; &amp; &#x27;single&#x27;"
    assert f"Hoi Zoë 王 {escaped} Bcc:" in html
    assert (
        "Hoi Zoë 王 <script>alert(1)</script> \"quoted\" & 'single' Bcc: evil@example.com," in text
    )
    tree = lxml.html.document_fromstring(html)
    assert "Hoi Zoë 王 <script>alert(1)</script>" in visible_text(
        lxml.html.tostring(tree, encoding="unicode")
    )


def test_hostile_post_text_is_escaped(settings: Settings) -> None:
    post = replace(
        rich_post(),
        title='Loslaten <script>alert("x")</script> & "rust"',
        lead="Zoë 王 <b>vet</b>\r\nnieuwe regel",
        blocks=(
            Block("paragraph", "<img src=x onerror=alert(1)> tekst"),
            Block("read_more", 'Titel met "quotes" & <tags>'),
        ),
    )
    edition = render_edition(post, settings.newsletter)
    html, text = personalised(edition, settings)
    tree = lxml.html.document_fromstring(html)
    assert not tree.xpath("//script | //img | //b")
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    [read_more] = tree.xpath("//a[contains(text(), 'Titel met')]/@href")
    assert (
        read_more
        == "https://www.gerritvanderheide.com/?s=Titel%20met%20%22quotes%22%20%26%20%3Ctags%3E"
    )
    assert edition.subject == 'Loslaten <script>alert("x")</script> & "rust"'
    assert "<img src=x onerror=alert(1)> tekst" in text


def test_related_titles_of_the_post_are_shown_once(settings: Settings) -> None:
    titles = ("Loslaten in 3 stappen", "Zelfcompassie")
    with_block = replace(rich_post(), related=titles)
    without_block = replace(
        with_block, blocks=tuple(b for b in with_block.blocks if b.type != "related")
    )
    for post in (with_block, without_block):
        edition = render_edition(post, settings.newsletter)
        assert edition.html.count(">Zelfcompassie</a>") == 1
        assert edition.text.count("- Zelfcompassie [") == 1


def test_a_post_quoting_a_placeholder_is_refused(settings: Settings) -> None:
    post = replace(rich_post(), lead=f"zie {PLACEHOLDERS[1]}")
    with pytest.raises(RenderError, match="placeholder"):
        render_edition(post, settings.newsletter)


def test_recipient_for_needs_a_secret_key() -> None:
    settings = replace(make_settings(), secret_key=None)
    with pytest.raises(ConfigError, match="secret key"):
        recipient_of(settings, 1, "a@example.nl", None, post_slug="x")


def test_recipient_cleans_names() -> None:
    recipient = Recipient("a@example.nl", "  Jan\tvan\u2028Dam \x1b ", "https://u", "https://b")
    assert recipient.name == "Jan van Dam"


def test_signature_comes_from_the_settings() -> None:
    settings = make_settings(
        newsletter={"signature": "Warme groet & tot snel,\nGerrit van der Heide"}
    )
    edition = render_edition(rich_post(), settings.newsletter)
    html, text = personalised(edition, settings)
    assert html.count("Warme groet &amp; tot snel,<br>Gerrit van der Heide") == 1
    assert text.count("Warme groet & tot snel,\nGerrit van der Heide") == 1
    assert "Groet,<br>Gerrit" not in html


def test_reply_hint_only_when_reply_to_is_configured() -> None:
    hint = "Reageren kan gewoon: beantwoord deze e-mail."
    plain = render_edition(rich_post(), make_settings().newsletter)
    replying = render_edition(
        rich_post(), make_settings(newsletter={"reply_to": "gerrit@example.nl"}).newsletter
    )
    assert hint not in plain.html and hint not in plain.text
    assert hint in replying.html and hint in replying.text


def test_post_url_prefers_the_known_url() -> None:
    settings = make_settings(newsletter={"post_url_template": "https://blog.example/{slug}/"})
    assert (
        post_url(
            replace(rich_post(), url="https://blog.example/x"),
            settings.newsletter.post_url_template,
        )
        == "https://blog.example/x"
    )
    assert (
        post_url(rich_post(), settings.newsletter.post_url_template)
        == "https://blog.example/innerlijke-rust/"
    )


BLOG_URL = "https://www.gerritvanderheide.com/innerlijke-rust/"


def test_a_post_with_an_address_leads_to_the_blog(settings: Settings) -> None:
    """The title links to the post, and the article ends with a clear link to it, in the
    HTML and the text part, before the signature."""
    edition = render_edition(replace(rich_post(), url=BLOG_URL), settings.newsletter)
    html, text = personalised(edition, settings)
    tree = lxml.html.document_fromstring(html)
    (title,) = tree.xpath("//h1")
    assert [a.get("href") for a in title.xpath(".//a")] == [BLOG_URL]
    (link,) = tree.xpath("//a[normalize-space()='Lees dit artikel op de blog']")
    assert link.get("href") == BLOG_URL
    page = visible_text(html)
    assert page.index("Lees dit artikel op de blog") > page.index(rich_post().faq[0].answer)
    assert page.index("Lees dit artikel op de blog") < page.index("Groet,")
    assert f"Lees dit artikel op de blog: {BLOG_URL}" in one_line(text)
    assert text.index("Lees dit artikel op de blog") < text.index("Groet,\nGerrit")


def test_a_post_without_an_address_has_no_blog_link(settings: Settings) -> None:
    html, text = personalised(render_edition(rich_post(), settings.newsletter), settings)
    assert not lxml.html.document_fromstring(html).xpath("//h1//a")
    assert "Lees dit artikel op de blog" not in html and "Lees dit artikel" not in text


def test_an_excerpt_links_its_title_and_keeps_its_one_button() -> None:
    settings = make_settings(newsletter={"content": "excerpt"})
    edition = render_edition(replace(rich_post(), url=BLOG_URL), settings.newsletter)
    html, text = personalised(edition, settings)
    tree = lxml.html.document_fromstring(html)
    assert [a.get("href") for a in tree.xpath("//h1//a")] == [BLOG_URL]
    (button,) = tree.xpath("//a[normalize-space()='Lees verder op de blog']")
    assert button.get("href") == BLOG_URL
    assert "Lees dit artikel op de blog" not in html and "Lees dit artikel" not in text


def test_a_broken_post_url_template_is_a_render_error() -> None:
    settings = make_settings(
        newsletter={"post_url_template": "https://blog.example/{title}/{year}"}
    )
    with pytest.raises(RenderError, match="post_url_template"):
        render_edition(rich_post(), settings.newsletter)


# --- excerpts ----------------------------------------------------------------------------


def huge_post() -> Post:
    blocks: list[Block] = []
    for section in range(1, 121):
        blocks.append(Block("heading", f"Deel {section}: loslaten zonder haast"))
        blocks += [
            Block("paragraph", f"Alinea {section}.{n}: " + "Adem rustig in en uit. " * 12)
            for n in range(4)
        ]
        blocks.append(Block("prompt", f"💡 Wat mag jij in deel {section} loslaten?"))
    return replace(
        rich_post(), slug="heel-lang", blocks=tuple(blocks), url="https://blog.example/heel-lang"
    )


def test_a_post_too_large_for_gmail_becomes_an_excerpt(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="newsletter.mail.render"):
        edition = render_edition(huge_post(), settings.newsletter)
    assert edition.excerpt
    [record] = [r for r in caplog.records if r.name == "newsletter.mail.render"]
    assert record.levelno == logging.WARNING and "excerpt" in record.getMessage()
    html, text = personalised(edition, settings)
    assert len(html.encode("utf-8")) < MAX_HTML_BYTES
    tree = lxml.html.document_fromstring(html)
    assert tree.xpath("//a[text()='Lees verder op de blog']/@href") == [
        "https://blog.example/heel-lang"
    ]
    assert "Lees verder op de blog [" in text and "https://blog.example/heel-lang" in text
    assert "Deel 1: loslaten zonder haast" in html and "Deel 120:" not in html
    assert html.count("Groet,<br>Gerrit") == 1 and text.count("Groet,\nGerrit") == 1
    assert "Veelgestelde vragen" not in html
    for question in rich_post().questions:
        assert question.question in html and question.question in text


def test_excerpt_setting_always_sends_an_excerpt(caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings(newsletter={"content": "excerpt"})
    with caplog.at_level(logging.WARNING, logger="newsletter.mail.render"):
        edition = render_edition(rich_post(), settings.newsletter)
    assert edition.excerpt
    assert not caplog.records
    assert "Lees verder op de blog" in edition.html
    assert "Lees verder op de blog" in edition.text


def test_a_post_that_fits_is_sent_whole(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="newsletter.mail.render"):
        edition = render_edition(rich_post(), settings.newsletter)
    assert not edition.excerpt and not caplog.records
    assert "Lees verder op de blog" not in edition.html


def test_an_excerpt_that_is_still_too_large_is_an_error(settings: Settings) -> None:
    post = replace(rich_post(), questions=(QuestionAnswer("Waarom? " * 15_000, ""),))
    with pytest.raises(RenderError, match="even the excerpt"):
        render_edition(post, settings.newsletter)


def test_excerpt_keeps_whole_sections_within_the_budget() -> None:
    intro = Block("paragraph", "i" * 100)
    first = [Block("heading", "Een"), Block("paragraph", "a" * 300)]
    second = [Block("heading", "Twee"), Block("paragraph", "b" * 300)]
    third = [Block("heading", "Drie"), Block("paragraph", "c" * 300)]
    blocks = [intro, *first, *second, *third]
    assert excerpt_blocks(blocks, budget=1_000) == (intro, *first, *second)
    assert excerpt_blocks(blocks, budget=500) == (intro, *first)


def test_excerpt_cuts_a_long_opening_section_between_blocks() -> None:
    blocks = [Block("paragraph", "x" * 400) for _ in range(5)] + [Block("subheading", "Sub")]
    assert excerpt_blocks(blocks, budget=1_000) == tuple(blocks[:2])
    assert excerpt_blocks([Block("paragraph", "y" * 5_000)], budget=1_000) == (
        Block("paragraph", "y" * 5_000),
    )


def test_excerpt_never_ends_on_a_heading() -> None:
    blocks = [Block("paragraph", "p" * 10), Block("heading", "Kop"), Block("subheading", "Sub")]
    assert excerpt_blocks(blocks, budget=1_000) == (blocks[0],)


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        ("Voorbeeld: Je zit in een overleg.", ("Voorbeeld:", "Je zit in een overleg.")),
        (
            "Voorbeeld uit het dagelijks leven: Je zit.",
            ("Voorbeeld uit het dagelijks leven:", "Je zit."),
        ),
        ("Voorbeelden zijn er genoeg. Kijk: zo.", ("", "Voorbeelden zijn er genoeg. Kijk: zo.")),
        ("Een gewone alinea.", ("", "Een gewone alinea.")),
    ],
)
def test_example_labels_are_split_off(paragraph: str, expected: tuple[str, str]) -> None:
    assert split_example(paragraph) == expected


def test_strip_media_rules_leaves_other_rules() -> None:
    css = "@media (x) { .a { color: red } .b { x: y } } .c { z: 1 } @media (y) { .d { q: 2 } }"
    assert " ".join(strip_media_rules(css).split()) == ".c { z: 1 }"
