"""What one piece of article text is: shared by the scraped-text, HTML and Markdown parsers.

Every source format ends up asking the same questions about a paragraph: is it a 💡 prompt,
a pull quote, a cross reference ("Lees verder: …"), a heading, or site furniture that must
never reach a subscriber? Answering them in one place keeps the formats consistent: a post
parsed from the blog page and the same post from the RSS feed give the same blocks.

The marker phrases below are the blog's own fixed wording (its widgets, its section titles);
everything else is recognised by shape, so new posts of the site parse without new code.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

PROMPT_MARK = "💡"
ARROW = "→"

# Opening quote mark → the closing mark that ends a pull quote. Single quotes are left out:
# the blog uses them inside sentences ('niet lastig wilt zijn'), never for pull quotes.
QUOTE_PAIRS = {'"': '"', "“": "”", "„": "”", "«": "»", "”": "”"}
_DOUBLE_QUOTES = frozenset('"“”„«»')

BULLET_RE = re.compile(r"^(?:[•·▪◦‣*+-]|\d{1,2}[.)])\s+")
NUMBERED_RE = re.compile(r"^\d{1,2}[.)]\s+")
READING_TIME_RE = re.compile(r"^\d{1,3}\s*(?:min|minuten|minutes)\.?$", re.IGNORECASE)

# The blog's section titles (compared on `marker_key`, so case, dashes and NBSP don't matter).
QUESTIONS_MARKER_RE = re.compile(r"^\w+ vragen om even bij stil te staan\W*$")
FAQ_MARKERS = ("veelgestelde vragen", "veel gestelde vragen")
RELATED_MARKER_RE = re.compile(r"^ontdek meer\W*$")
SITE_FAQ_MARKERS = ("meer algemene vragen over",)
SIGN_OFF_RE = re.compile(r"^(?:(?:hartelijke|warme|lieve|vriendelijke) )?groet(?:en)?\W*$")
# The same sign-off with the name in the same paragraph, as Markdown and HTML give it
# ("Groet,<br>Gerrit", "Groet,\nGerrit" become "Groet, Gerrit"): at most four name words.
SIGNED_OFF_RE = re.compile(
    r"^(?:(?:hartelijke|warme|lieve|vriendelijke) )?groet(?:en)?, \w+(?:[ -]\w+){0,3}\W*$"
)

# Site widgets, matched on the start of a line.
SEARCH_WIDGET_MARKERS = (
    "vind het inzicht dat jou",
    "tip: gebruik 1-2 woorden",
    "zoek jouw thema in de blogs",
)
SIGN_UP_MARKERS = (
    "wekelijks een helder moment",
    "ontvang wekelijks inspiratie",
    "afmelden kan op elk moment",
)
LINK_LABELS = ("leer meer op:", "lees meer op:")
LINK_MARK = "🔗"

# A newsletter plug in the body ("Eén keer per week een blog die …"): a short line that
# speaks of a weekly rhythm and of a blog or a mailbox.
_WEEKLY_RE = re.compile(r"\b(?:wekelijks|per week|elke week|iedere week)\b")
_MAILING_RE = re.compile(r"\b(?:blogs?|mail|mailbox|inbox|nieuwsbrief|inspiratie)\b")
_PLUG_MAX_CHARS = 200

_URL_RE = re.compile(r"^(?:https?://|www\.)\S+$")
# A line that is nothing but template tags a site generator did not expand: Hugo shortcodes
# ({{< youtube … >}}, {{% notice %}}), Liquid ({% include … %}), WordPress ([gallery …]).
_TEMPLATE_TAGS_RE = re.compile(
    r"^(?:\{\{[<%].*?[%>]\}\}|\{%.*?%\}|\[/?[a-z][a-z0-9_-]*(?:\s[^\]]*)?\])+$"
)
_BUTTON_MAX_CHARS = 80
_ATTRIBUTION_RE = re.compile(r"^[—–]\s*[A-ZÀ-Þ][^.!?]{0,80}$")

# Unmarked pull quotes (see has_pull_quote_shape).
_PULL_QUOTE_MIN_CHARS = 30
_PULL_QUOTE_MAX_CHARS = 140
_CONTRAST_RE = re.compile(r"\b(?:niet|geen)\b[^.]*?(?:,\s*maar\b|\s[–—-]\s)", re.IGNORECASE)
_HEADLESS_RELATIVE_RE = re.compile(r"^(?:Wie|Wat je) [^,]{3,60}, \w")
_POINTING_BACK = frozenset(
    {"die", "dat", "dit", "deze", "daar", "daarom", "daardoor", "dan", "en", "of", "ook",
     "zo", "toch", "hier", "hierdoor", "het", "zij", "ze", "hij"}
)  # fmt: skip
# Words that tie a sentence to its surroundings ("dit patroon", "daar", "dat") or to a story
# ("ik", "mijn cliënt", "ze"): an aphorism needs none of them.
_TIED_TO_CONTEXT_RE = re.compile(
    r"\b(?:dit|deze|dat|daar\w*|hier\w*|zo'n|ik|me|mij|mijn|we|wij|ons|onze|hij|hem|haar"
    r"|ze|zij)\b",
    re.IGNORECASE,
)
_EXAMPLE_LABEL_RE = re.compile(r"(Voorbeeld[^:.?!]{0,40}:)\s*")

HEADING_MAX_CHARS = 120
_SENTENCE_BREAK_RE = re.compile(r"[.!?…]\s+[\"“‘'(]?[A-ZÀ-Þ0-9]")
_NO_HEADING_ENDINGS = (".", ",", ";", ":", "!", "…")

# Cross references: "Lees verder: Titel", anywhere (also glued: "…maakt.Lees verder: Titel").
_READ_MORE_ANYWHERE_RE = re.compile(
    r"(?:👉\s*)?\b[Ll]ees (?:verder|meer|ook)(?: (?:in|op|hier))?\s*:\s*"
)
# The author's own call to action: "🔗 Leer loslaten – ontdek hier hoe jij …". The words
# before the dash are the title of the article the link goes to.
_LINKED_TITLE_RE = re.compile(r"^🔗\s*(?P<title>[^–—\-]{2,80}?)\s+[–—-]\s+ontdek\b", re.IGNORECASE)
# Forms without a colon only count at the start of a paragraph ("Lees ook Titel — over …").
_READ_MORE_START_RE = re.compile(
    r"^(?:👉\s*[Ll]ees(?: (?:in|ook|verder|meer(?: in)?))?\s+"
    r"|[Ll]ees ook\s+"
    r"|[Ll]ees in\s+(?=[\"“„]))"
)
# "Titel — over hoe …": the blurb after the title of a cross reference.
_BLURB_RE = re.compile(r"\s[—–-]\s+over\s")
_TITLE_END_RE = re.compile(r"([.!?…])\s+(?=[\"“‘'(]?[A-ZÀ-Þ])")

# Where a list of related articles glues a description to the next title:
# "…verminderen. - De Kracht van …" and "…dagelijks leven.Spanning loslaten: …".
_GLUED_ITEM_RE = re.compile(r"(?<=[.!?])\s+(?=[-•]\s)|(?<=[a-zà-ÿ)][.!?])(?=[A-ZÀ-Þ])")

_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_DASH_RE = re.compile("[‐‑‒–—]")
_SINGLE_QUOTE_RE = re.compile("[‘’]")
_DOUBLE_QUOTE_RE = re.compile("[“”„]")
# Markers are all short and matched at the start of a line: a prefix is enough to fold.
_KEY_CHARS = 240


def clean_text(raw: str) -> str:
    """One line of printable text: every run of whitespace (NBSP, tabs, line breaks) is one
    space, control characters part words like a space, format characters (soft hyphens,
    zero-width spaces, a right-to-left override) vanish; trimmed.

    The scraped pages pad lines with NBSP and stray spaces; none of it carries meaning, and
    normalising here makes every comparison and every emitted text value stable. Every
    text from outside passes here (post texts, subscribers' names, bounce reasons), so
    none carries an escape sequence into a terminal or a line break into a header. The
    other functions of this module expect text that went through here once.
    """
    if not raw.isprintable():
        raw = raw.translate(_PRINTABLE)
    return " ".join(raw.split())


def clean_display_name(name: str | None) -> str | None:
    """One line of printable text, or None: a name can never add a header line or break layout.

    The subscriber list stores names already cleaned by this same rule.
    """
    return None if name is None else clean_text(name) or None


class _PrintableTable(dict[int, str]):
    """``str.translate``'s table for :func:`clean_text`, filled as characters are met (the
    lookups of known characters stay in C); bounded, since a post chooses its characters."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        value = char
        if not char.isprintable():
            value = "" if unicodedata.category(char) == "Cf" else " "
        if len(self) < _PRINTABLE_TABLE_SIZE:
            self[code] = value
        return value


_PRINTABLE_TABLE_SIZE = 4096
_PRINTABLE = _PrintableTable()


def indent_of(raw: str) -> int:
    """Leading whitespace width of a raw line (tabs count as four): marks list continuations."""
    width = 0
    for char in raw:
        if char == "\t":
            width += 4
        elif char.isspace():
            width += 1
        elif char not in _INVISIBLE:
            break
    return width


@lru_cache(maxsize=4096)
def marker_key(text: str) -> str:
    """The start of a line folded for matching the site's phrases: case, dashes, quotes.

    Cached: every line is compared with every marker, often more than once.
    """
    key = _DASH_RE.sub("-", text[:_KEY_CHARS].casefold())
    return _DOUBLE_QUOTE_RE.sub('"', _SINGLE_QUOTE_RE.sub("'", key))


def is_questions_marker(text: str) -> bool:
    return len(text) <= HEADING_MAX_CHARS and bool(QUESTIONS_MARKER_RE.match(marker_key(text)))


def is_faq_marker(text: str) -> bool:
    return (
        len(text) <= HEADING_MAX_CHARS
        and not text.endswith(".")
        and marker_key(text).startswith(FAQ_MARKERS)
    )


def is_related_marker(text: str) -> bool:
    return len(text) <= HEADING_MAX_CHARS and bool(RELATED_MARKER_RE.match(marker_key(text)))


def is_section_marker(text: str) -> bool:
    """A title that opens one of the article's special sections (questions, FAQ, related)."""
    return is_questions_marker(text) or is_faq_marker(text) or is_related_marker(text)


def is_sign_off(text: str) -> bool:
    """The page's "Groet," line (or "Groet, Gerrit" in one paragraph): everything after it
    is the site's, not the article's, and the email adds its own signature."""
    key = marker_key(text)
    return len(text) <= HEADING_MAX_CHARS and bool(
        SIGN_OFF_RE.match(key) or SIGNED_OFF_RE.match(key)
    )


def is_site_faq_intro(text: str) -> bool:
    return marker_key(text).startswith(SITE_FAQ_MARKERS)


def is_sign_up_box(text: str) -> bool:
    return marker_key(text).startswith(SIGN_UP_MARKERS)


def is_newsletter_plug(text: str) -> bool:
    if len(text) > _PLUG_MAX_CHARS:
        return False
    key = marker_key(text)
    return bool(_WEEKLY_RE.search(key)) and bool(_MAILING_RE.search(key))


def is_button(text: str) -> bool:
    """A call-to-action link whose target the scrape lost ("Begin met loslaten … →", "🔗 …").

    A "🔗 Titel – ontdek hier …" line names the article it points at: a read-more link
    (:func:`split_read_more`), not a button.
    """
    if text.startswith(LINK_MARK):
        return _LINKED_TITLE_RE.match(text) is None
    return text.endswith(ARROW) and len(text) <= _BUTTON_MAX_CHARS


def is_furniture(text: str) -> bool:
    """Site furniture that is recognisable on its own line, wherever it shows up."""
    if not text:
        return True
    key = marker_key(text)
    return (
        key.startswith(SEARCH_WIDGET_MARKERS)
        or key.startswith(SIGN_UP_MARKERS)
        or key in LINK_LABELS
        or is_newsletter_plug(text)
        or is_button(text)
        or bool(_URL_RE.match(text))
        or bool(_TEMPLATE_TAGS_RE.match(text))
        or bool(READING_TIME_RE.match(text))
    )


def is_testimonial(text: str, following: str) -> bool:
    """A quote signed on the next line ("— Inge, crediteurenbeheer"): praise, not article.

    The blog's own pull quotes are never signed; its testimonials always are.
    """
    return bool(_ATTRIBUTION_RE.match(following)) and quote_text(text) is not None


def prompt_text(text: str) -> str | None:
    """The reflection question of a 💡 prompt, without the bulb; None for anything else."""
    if not text.startswith(PROMPT_MARK):
        return None
    return clean_text(text[len(PROMPT_MARK) :].lstrip("\ufe0f")) or None


def quote_text(text: str) -> str | None:
    """The words of a standalone pull quote, without its quote marks; None for anything else.

    A paragraph that merely starts and ends with quotes but has more quotes inside
    (“Ik moet,” zegt ze, “sterk zijn.”) is prose with dialogue, not a pull quote.
    """
    if len(text) < 3 or QUOTE_PAIRS.get(text[0]) != text[-1]:
        return None
    inner = text[1:-1]
    if any(char in _DOUBLE_QUOTES for char in inner):
        return None
    return clean_text(inner) or None


def split_example(text: str) -> tuple[str, str]:
    """The label of the blog's example box ("Voorbeeld: …", "Voorbeeld uit het dagelijks
    leven: …") and the rest: the parser knows an example by it, the email sets it in bold."""
    label = _EXAMPLE_LABEL_RE.match(text)
    if label is None:
        return "", text
    return label.group(1), text[label.end() :]


def is_example(text: str) -> bool:
    return bool(split_example(text)[0])


def has_pull_quote_shape(text: str) -> bool:
    """A line that reads as a pull quote once the scrape lost its styling and quote marks.

    The blog's unmarked pull quotes are one short sentence that stands on its own: an
    aphorism built on a contrast ("Zachtheid is geen zwakte, maar een keuze …", "… verzwakt
    je niet – het bevrijdt je …") or on "Wie …, …" / "Wat je …, …", speaking to "je" or to
    nobody. A sentence that opens by pointing back ("Die onderstroom …", "En …"), points
    at its surroundings anywhere ("… dit patroon", "daar") or tells a story ("ik", "ze")
    belongs to the prose around it. Shape alone is not enough: the caller also asks whether
    the line stands apart from the running text (:mod:`.assemble`).
    """
    if not (_PULL_QUOTE_MIN_CHARS <= len(text) <= _PULL_QUOTE_MAX_CHARS):
        return False
    if not text.endswith(".") or text.endswith("..") or not text[0].isupper():
        return False
    if any(char in _DOUBLE_QUOTES for char in text) or not is_single_sentence(text):
        return False
    if text.split(maxsplit=1)[0].casefold() in _POINTING_BACK:
        return False
    if _TIED_TO_CONTEXT_RE.search(text):
        return False
    return bool(_CONTRAST_RE.search(text) or _HEADLESS_RELATIVE_RE.match(text))


def bullet_text(text: str) -> str | None:
    """The text of a bullet or numbered list line without its marker; None if it is no item."""
    match = BULLET_RE.match(text)
    if match is None:
        return None
    return clean_text(text[match.end() :]) or None


def join_continuation(item: str, more: str) -> str:
    """A list item with a further line of it: a scraped continuation line, a Markdown
    item's next paragraph.

    The further line is usually the description under a bolded item title ("Innerlijke
    rust" / "Je hoeft minder te vechten …"): it follows the title after a colon, so the
    two read as one sentence; an item that already ends in punctuation simply goes on.
    """
    separator = " " if item.endswith((".", "!", "?", ":", ";", ",")) else ": "
    return f"{item}{separator}{more}"


def is_single_sentence(text: str) -> bool:
    return not _SENTENCE_BREAK_RE.search(text[:-1])


def looks_like_heading(text: str) -> bool:
    """Short, one sentence, capitalised, no closing period: the shape of the blog's headings.

    A heading may end in "?" ("Wat belemmert ontspanning?"), but then it needs a few words,
    so that a one-word "Herkenbaar?" stays prose. Whether a heading-shaped line really is a
    heading also depends on what follows it; the caller decides that.
    """
    if not text or len(text) > HEADING_MAX_CHARS or text.endswith(_NO_HEADING_ENDINGS):
        return False
    if prompt_text(text) or quote_text(text) or is_button(text):
        return False
    if BULLET_RE.match(text) and not NUMBERED_RE.match(text):
        return False
    first_letter = next((c for c in text if c.isalnum()), "")
    if not (first_letter.isupper() or first_letter.isdigit()):
        return False
    if text.endswith("?") and len(text.split()) < 3:
        return False
    return is_single_sentence(NUMBERED_RE.sub("", text, count=1))


@dataclass(frozen=True, slots=True)
class ReadMoreSplit:
    """A paragraph cut around its cross reference: text before, the title, a sentence after."""

    before: str
    title: str
    after: str


def split_read_more(text: str) -> ReadMoreSplit | None:
    """Find a cross reference ("Lees verder: Titel") in a paragraph and cut it out.

    The title ends at its closing quote, at a "— over …" blurb, at a sentence end followed by
    a new sentence, or at the end of the paragraph. What follows the title is kept only when
    it is a sentence of its own ("In dat blog ontdek je …"); a blurb fragment ("over hoe …",
    "hoe je …") only describes the missing link and is dropped.
    """
    linked = _LINKED_TITLE_RE.match(text)
    if linked is not None:
        return ReadMoreSplit(before="", title=clean_text(linked["title"]), after="")
    if "ees " not in text:
        return None
    match = _READ_MORE_START_RE.match(text) or _READ_MORE_ANYWHERE_RE.search(text)
    if match is None:
        return None
    before = clean_text(text[: match.start()])
    title, after = _split_title(text[match.end() :])
    title = clean_text(title).rstrip(".").strip()
    if not title or title.endswith(":"):  # "Lees ook deze artikelen:" introduces, not refers
        return None
    after = clean_text(after)
    if after and not after[0].isupper():
        after = ""
    return ReadMoreSplit(before=before, title=title, after=after)


def _split_title(rest: str) -> tuple[str, str]:
    rest = rest.strip()
    close = QUOTE_PAIRS.get(rest[:1])
    if close is not None:
        end = rest.find(close, 1)
        if end > 0:
            return rest[1:end], rest[end + 1 :]
    blurb = _BLURB_RE.search(rest)
    sentence_end = _TITLE_END_RE.search(rest)
    if blurb and (sentence_end is None or blurb.start() <= sentence_end.start()):
        return rest[: blurb.start()], ""
    if sentence_end:
        keep = sentence_end.group(1) in "?!"
        return rest[: sentence_end.start() + keep], rest[sentence_end.end() :]
    return rest, ""


def split_glued_items(text: str) -> list[str]:
    """Cut a line of the related-articles list where the scrape glued two entries together."""
    return [part for part in (clean_text(p) for p in _GLUED_ITEM_RE.split(text)) if part]


def is_description(text: str) -> bool:
    """A sentence describing a related article, as opposed to the article's title."""
    return text.endswith((".", "!")) and not BULLET_RE.match(text)
