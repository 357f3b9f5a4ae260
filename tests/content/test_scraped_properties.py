"""Properties over arbitrary text: the parser never crashes and never lets furniture through.

Scraped pages are whatever the site happened to render, so the parser must survive any
input: it returns a post or raises ContentError, nothing else. And however site furniture
is mixed into article text, none of it may come out in the post.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.content.post import Post
from newsletter.content.scraped import parse_scraped
from newsletter.errors import ContentError

from .helpers import SEED_PATHS, every_text

# Whole furniture lines of the blog's pages (as they appear in the seeds) and variants.
FURNITURE_LINES = (
    "Vind het inzicht dat jou vandaag verder brengt",
    "Tip: gebruik 1–2 woorden. Klik op ‘Zoek jouw thema in de blogs’ of druk op Enter.",
    "Wekelijks een helder moment van rust en richting",
    "Wekelijks een helder moment van rust en richting.",
    "Ontvang wekelijks inspiratie over loslaten, innerlijke vrijheid en persoonlijke groei — "
    "rustig, zuiver en rechtstreeks in je mailbox. Afmelden kan op elk moment",
    "✉️ Ontvang wekelijks een blog die niet duwt of trekt — maar ruimte in jezelf maakt.",
    "Eén keer per week een blog die niet vraagt om actie, maar je wél iets laat zien.",
    "Begin met loslaten, stap voor stap →",
    "🔗 Meer weten? Klik hier.",
    "Leer meer op:",
    "https://www.gerritvanderheide.com/wetenschappelijke-voordelen-van-loslaten/",
    "\u00a0 \u00a0",
    "13 min",
)
SIGN_OFF = ("Groet,", "Gerrit")
TESTIMONIAL = (
    "“De inzichten van Gerrit gaven me rust, ruimte en de moed om mezelf te zijn.”",
    "— Inge, crediteurenbeheer",
)
FURNITURE_NEEDLES = tuple(
    line.strip("\u00a0 ") for line in (*FURNITURE_LINES, *TESTIMONIAL) if line.strip("\u00a0 ")
)


def _article_lines() -> list[str]:
    """Lines of the seeds that are not furniture: realistic text for the generator."""
    lines: set[str] = set()
    for path in SEED_PATHS:
        text = path.read_text(encoding="utf-8")
        body = text.split("Groet,")[0]
        lines.update(line for line in body.splitlines() if line.strip())
    furniture_starts = tuple(needle[:20] for needle in FURNITURE_NEEDLES)
    return sorted(
        line
        for line in lines
        if not line.strip().startswith(furniture_starts)
        and "Gerrit" not in line
        and "crediteurenbeheer" not in line
        and not line.strip().startswith("Vrijheid begint niet bij")  # caption of a button
    )


ARTICLE_LINES = _article_lines()
MARKERS = (
    "Drie vragen om even bij stil te staan",
    "Veelgestelde vragen over innerlijke kracht",
    "Ontdek meer...",
    "Lees verder: Een titel",
    "  • Vraag? → Antwoord.",
    "- Titel van een artikel",
    "1. Een stap",
    "💡 Een vraag?",
    '"Een citaat."',
    "",
)

random_line = st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
article_line = st.one_of(st.sampled_from(ARTICLE_LINES), st.sampled_from(MARKERS), random_line)
furniture_insert = st.one_of(
    st.sampled_from(FURNITURE_LINES).map(lambda line: (line,)),
    st.just(SIGN_OFF),
    st.just(TESTIMONIAL),
)
line_ending = st.sampled_from(["\n", "\r\n", "\n\n", "\n\n\n"])

PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the work tree; failures print their example
    suppress_health_check=[HealthCheck.too_slow],
)


def _parse_or_none(text: str) -> Post | None:
    try:
        return parse_scraped(text, source="random.txt")
    except ContentError as error:
        assert error.source == "random.txt"
        return None


@PROPERTY_SETTINGS
@given(st.text())
def test_any_text_gives_a_post_or_a_content_error(text: str) -> None:
    _parse_or_none(text)


@PROPERTY_SETTINGS
@given(st.lists(article_line, max_size=40), line_ending)
def test_any_mix_of_site_lines_gives_a_post_or_a_content_error(
    lines: list[str], newline: str
) -> None:
    post = _parse_or_none(newline.join(lines))
    if post is not None:
        assert post.title
        assert post.blocks
        assert all(block.text == block.text.strip() for block in post.blocks)


@PROPERTY_SETTINGS
@given(
    st.lists(article_line, min_size=1, max_size=30),
    st.lists(st.tuples(st.integers(min_value=0), furniture_insert), min_size=1, max_size=6),
    line_ending,
)
def test_furniture_mixed_into_article_text_never_comes_out(
    lines: list[str], inserts: list[tuple[int, tuple[str, ...]]], newline: str
) -> None:
    chunks: list[tuple[str, ...]] = [(line,) for line in lines]
    for position, furniture in inserts:  # between lines, never inside a two-line widget
        at = position % (len(chunks) + 1)
        chunks.insert(at, furniture)
    post = _parse_or_none(newline.join(line for chunk in chunks for line in chunk))
    if post is None:
        return
    texts = every_text(post)
    leaks = [(n, t) for t in texts for n in FURNITURE_NEEDLES if n in t]
    assert leaks == []
    assert not any(text in SIGN_OFF for text in texts)
