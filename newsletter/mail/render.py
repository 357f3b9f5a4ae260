"""Turn a :class:`Post` into the weekly email: HTML and plain text, once per edition.

Rendering is split in two so that sending to thousands of subscribers stays cheap:

1. :func:`render_edition` renders the Jinja templates once, inlines the CSS with premailer
   once, and leaves four placeholders where each subscriber differs (greeting, unsubscribe
   URL, view-in-browser URL, the URL of the reader's own page). The placeholders are plain
   ASCII letters and digits: premailer and HTML serialisation leave them alone, and
   quoted-printable has nothing to escape.
2. :func:`personalise` swaps the placeholders for one subscriber's values with
   ``str.replace``: escaped for the HTML, raw for the text. That takes microseconds.

Everything here is pure: no database, no network, no file writes. Gmail cuts off messages
whose HTML is larger than about 102 KB (and hides the footer with the unsubscribe link),
so an edition that would be too large is sent as an excerpt with a link to the blog.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, select_autoescape
from markupsafe import Markup
from premailer import Premailer

from newsletter.config import NewsletterSection
from newsletter.config.shipped import resource_dir
from newsletter.content.classify import clean_display_name, split_example
from newsletter.content.post import Block, Post, QuestionAnswer, is_web_url
from newsletter.content.slug import slugify
from newsletter.errors import RenderError
from newsletter.mail.cards import Card, card_of
from newsletter.mail.text import install_text_helpers, one_line, render_text, shorten
from newsletter.mail.tokens import make_token

logger = logging.getLogger("newsletter.mail.render")

GMAIL_CLIP_BYTES = 102 * 1024
# Our own limit on the final HTML, a little under Gmail's, measured in UTF-8 bytes.
MAX_HTML_BYTES = 100_000
# Room for what personalise() adds to the HTML: three URLs and a name instead of placeholders.
_PERSONALISATION_HEADROOM = 2_000
# Characters of body text an excerpt may carry: about the first two or three sections.
EXCERPT_BUDGET_CHARS = 6_000
PREHEADER_MAX_CHARS = 140

GREETING_PLACEHOLDER = "XnlSlotGreeting7q"
UNSUBSCRIBE_PLACEHOLDER = "XnlSlotUnsubscribe7q"
BROWSER_PLACEHOLDER = "XnlSlotBrowser7q"
MANAGE_PLACEHOLDER = "XnlSlotManage7q"
PLACEHOLDERS = (
    GREETING_PLACEHOLDER,
    UNSUBSCRIBE_PLACEHOLDER,
    BROWSER_PLACEHOLDER,
    MANAGE_PLACEHOLDER,
)
_PLACEHOLDER_PATTERN = re.compile("(" + "|".join(PLACEHOLDERS) + ")")

_QUOTE_MARKS = "\"'“”„‘’‚«»"
_PROMPT_MARK = "💡"
# The titles of the FAQ and further-reading sections for a post that has none of its own.
_FAQ_TITLE = "Veelgestelde vragen"
_RELATED_TITLE = "Meer om te lezen"


@dataclass(frozen=True, slots=True)
class RenderedEdition:
    """One post rendered for everyone; ``html`` and ``text`` still hold the placeholders.

    ``key_phrases`` are the headings, prompts and questions the edition shows; the
    deliverability check looks for each of them in both parts. ``card_slugs``: the other
    new posts shown below it as cards, which go out with it.
    """

    subject: str
    html: str
    text: str
    preheader: str
    excerpt: bool
    post_slug: str
    key_phrases: tuple[str, ...] = ()
    card_slugs: tuple[str, ...] = ()
    # Both parts cut at the placeholders once, so personalise() only joins strings.
    _html_pieces: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _text_pieces: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_html_pieces", tuple(_PLACEHOLDER_PATTERN.split(self.html)))
        object.__setattr__(self, "_text_pieces", tuple(_PLACEHOLDER_PATTERN.split(self.text)))


@dataclass(frozen=True, slots=True)
class Recipient:
    """What differs per subscriber. The name is cleaned of line breaks and control characters."""

    email: str
    name: str | None
    unsubscribe_url: str
    browser_url: str
    # The reader's own page (pause, address, name); empty where no reader is known.
    manage_url: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", clean_display_name(self.name))


def email_templates() -> Environment:
    """The Jinja environment of ``templates/emails``: editions and the confirmation mail."""
    return _environment(resource_dir("templates/emails"))


@functools.cache
def _environment(templates_dir: Path) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    environment.globals["split_example"] = split_example
    install_text_helpers(environment)
    return environment


def render_templates(
    name: str, context: dict[str, Any], signature: str, *, what: str
) -> tuple[str, str]:
    """``NAME.html`` with its CSS inlined and ``NAME.txt``, both ending in ``signature``.

    Editions and the welcome mail look alike because they are made here alike.
    """
    environment = email_templates()
    signature_lines = signature.strip("\n").splitlines()
    try:
        raw_html = environment.get_template(f"{name}.html").render(
            context, signature_html=Markup("<br>").join(signature_lines)
        )
        text = render_text(
            environment.get_template(f"{name}.txt"),
            {**context, "signature": "\n".join(signature_lines)},
        )
    except TemplateError as exc:
        raise RenderError(f"{what}: template error: {exc}") from exc
    return inline_css(raw_html), text


def render_edition(
    post: Post, newsletter: NewsletterSection, more: Sequence[Post] = ()
) -> RenderedEdition:
    """Render ``post`` once for all subscribers, as a whole or as an excerpt, with the
    posts of ``more`` as short cards below it.

    With ``content = "full"`` the whole post is sent unless its HTML would be too large for
    Gmail; then, and always with ``content = "excerpt"``, the opening sections are sent
    with a "Lees verder op de blog" button. A post known only by its feed summary is
    always sent that way: the rest of it is on the blog.
    """
    for shown in (post, *more):
        _refuse_placeholders_in(shown)
    cards = tuple(card_of(other, post_url(other, newsletter.post_url_template)) for other in more)
    blocks = _body_blocks(post)
    if newsletter.content == "full" and not post.summary_only:
        edition = _render(post, newsletter, blocks, cards, excerpt=False)
        size = _html_bytes(edition)
        if size + _PERSONALISATION_HEADROOM < MAX_HTML_BYTES:
            return edition
        logger.warning(
            "post %r renders to %d bytes of HTML, too close to the %d-byte limit (Gmail "
            "clips at about 102 KB); sending an excerpt with a link to the blog instead",
            post.slug,
            size,
            MAX_HTML_BYTES,
        )
    edition = _render(post, newsletter, excerpt_blocks(blocks), cards, excerpt=True)
    size = _html_bytes(edition)
    if size + _PERSONALISATION_HEADROOM >= MAX_HTML_BYTES:
        raise RenderError(
            f"post {post.slug!r}: even the excerpt is {size} bytes of HTML (limit "
            f"{MAX_HTML_BYTES}); shorten the lead or the questions"
        )
    return edition


def excerpt_blocks(
    blocks: Sequence[Block], budget: int = EXCERPT_BUDGET_CHARS
) -> tuple[Block, ...]:
    """The opening of a post: whole sections (a heading and what follows) within ``budget``.

    Cutting between sections keeps the excerpt readable. When even the first section is
    longer than the budget it is cut between blocks instead; it never ends on a heading.
    """
    sections: list[list[Block]] = [[]]
    for block in blocks:
        if block.type == "heading" and sections[-1]:
            sections.append([])
        sections[-1].append(block)
    chosen: list[Block] = []
    used = 0
    for section in sections:
        size = sum(_text_size(b) for b in section)
        if used + size <= budget:
            chosen.extend(section)
            used += size
            continue
        if not chosen:
            for block in section:
                if chosen and used + _text_size(block) > budget:
                    break
                chosen.append(block)
                used += _text_size(block)
        break
    while chosen and chosen[-1].type in ("heading", "subheading"):
        chosen.pop()
    return tuple(chosen)


def personalise(edition: RenderedEdition, recipient: Recipient) -> tuple[str, str]:
    """The HTML and text of ``edition`` for one subscriber (HTML-escaped values in the HTML)."""
    greeting = f"Hoi {recipient.name}," if recipient.name else "Hoi,"
    text_values = {
        GREETING_PLACEHOLDER: greeting,
        UNSUBSCRIBE_PLACEHOLDER: recipient.unsubscribe_url,
        BROWSER_PLACEHOLDER: recipient.browser_url,
        MANAGE_PLACEHOLDER: recipient.manage_url,
    }
    html_values = {key: html.escape(value) for key, value in text_values.items()}
    return _splice(edition._html_pieces, html_values), _splice(edition._text_pieces, text_values)


def _splice(pieces: tuple[str, ...], values: dict[str, str]) -> str:
    """Rejoin ``pieces`` (text, placeholder, text, ...) with each placeholder's value."""
    return "".join([values[piece] if index % 2 else piece for index, piece in enumerate(pieces)])


def recipient_for(
    base_url: str,
    secret: str,
    subscriber_id: int,
    email: str,
    name: str | None,
    *,
    post_slug: str,
) -> Recipient:
    """A subscriber's :class:`Recipient` with links signed by ``secret`` for this edition.

    ``base_url`` is ``newsletter.base_url``; the links are made under it.
    """
    base_url = base_url.rstrip("/")
    token = make_token(secret, "unsubscribe", subscriber_id)
    return Recipient(
        email=email,
        name=name,
        unsubscribe_url=f"{base_url}/unsubscribe/{token}",
        browser_url=f"{base_url}/archive/{quote(post_slug, safe='')}",
        manage_url=f"{base_url}/manage/{make_token(secret, 'manage', subscriber_id)}",
    )


def post_url(post: Post, template: str) -> str:
    """Where the post lives on the blog: its own URL, else the configured search/slug URL.

    Only http(s): the import refuses other schemes already, but this link goes to every
    reader, so the renderer holds the line too (a row stored before the check, a template).
    """
    url = post.url or _blog_url(template, post.title, post.slug)
    if not is_web_url(url):
        raise RenderError(f"post {post.slug!r}: its link is not an http(s) URL: {url!r}")
    return url


def _blog_url(template: str, title: str, slug: str) -> str:
    try:
        return template.format(title=quote(title, safe=""), slug=quote(slug, safe=""))
    except (KeyError, IndexError, ValueError) as exc:
        raise RenderError(
            f"newsletter.post_url_template {template!r} cannot be filled in: {exc}"
        ) from None


def _render(
    post: Post,
    newsletter: NewsletterSection,
    blocks: tuple[Block, ...],
    cards: tuple[Card, ...],
    *,
    excerpt: bool,
) -> RenderedEdition:
    preheader = _preheader(post)
    faq = () if excerpt else post.faq
    link_template = newsletter.post_url_template
    context: dict[str, Any] = {
        "subject": one_line(post.title),
        "preheader": preheader,
        "newsletter_name": newsletter.name,
        "meta": _meta_line(post),
        "post": post,
        "blocks": blocks,
        "faq": faq,
        "faq_title": post.faq_heading or _FAQ_TITLE,
        "excerpt": excerpt,
        "post_url": post_url(post, link_template),
        # The post's own page: the title links to it and the article ends with a link to it.
        "source_url": post_url(post, link_template) if post.url else None,
        "cards": cards,
        "article_url": lambda title: _blog_url(link_template, title, slugify(title)),
        "reply_to": bool(newsletter.reply_to),
        "greeting": GREETING_PLACEHOLDER,
        "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
        "browser_url": BROWSER_PLACEHOLDER,
        "manage_url": MANAGE_PLACEHOLDER,
    }
    html, text = render_templates(
        "newsletter", context, newsletter.signature, what=f"post {post.slug!r}"
    )
    return RenderedEdition(
        subject=one_line(post.title),
        html=html,
        text=text,
        preheader=preheader,
        excerpt=excerpt,
        post_slug=post.slug,
        key_phrases=(*_key_phrases(post, blocks, faq), *(card.title for card in cards)),
        card_slugs=tuple(card.slug for card in cards),
    )


def inline_css(document: str) -> str:
    """Move the class rules into style attributes; keep the @media rules in a <style> block.

    Gmail and Outlook drop or ignore much of <style>, inline styles always work. Classes stay
    on the elements because the kept @media rules (phones, dark mode) select by class.
    """
    inliner = Premailer(
        document,
        base_url=None,
        disable_link_rewrites=True,
        allow_network=False,
        allow_loading_external_files=False,
        keep_style_tags=False,
        remove_classes=False,
        # The kept @media rules must beat the inline styles, so their !important stays.
        strip_important=False,
        disable_validation=True,
        # cssutils logs every vendor property (mso-hide, -webkit-...) it does not know.
        cssutils_logging_level=logging.CRITICAL,
    )
    inlined: str = inliner.transform()
    return inlined


def _body_blocks(post: Post) -> tuple[Block, ...]:
    """The blocks to show, with the post's related titles at the end unless a block has them."""
    blocks = [_display_block(b) for b in post.blocks if b.text.strip() or b.items]
    if post.related and not any(b.type == "related" for b in blocks):
        blocks.append(_display_block(Block("related", "", post.related)))
    return tuple(blocks)


def _display_block(block: Block) -> Block:
    """The block as the email shows it: the templates add the 💡 and the quote marks
    themselves, and a further-reading box without the author's title gets ours."""
    if block.type == "prompt":
        return Block("prompt", block.text.strip().removeprefix(_PROMPT_MARK).strip())
    if block.type == "quote":
        return Block("quote", block.text.strip().strip(_QUOTE_MARKS).strip())
    if block.type == "related" and not block.heading:
        return replace(block, heading=_RELATED_TITLE)
    return block


def _key_phrases(
    post: Post, blocks: Sequence[Block], faq: Sequence[QuestionAnswer]
) -> tuple[str, ...]:
    phrases = [b.text for b in blocks if b.type in ("heading", "subheading", "prompt")]
    phrases += [item.question for item in (*post.questions, *faq)]
    return tuple(one_line(p) for p in phrases if p.strip())


def _preheader(post: Post) -> str:
    """The grey preview line in the inbox: the lead, the first question or paragraph, shortened."""
    paragraphs = (block.text for block in post.blocks if block.type == "paragraph")
    source = post.lead or (post.questions[0].question if post.questions else next(paragraphs, ""))
    return shorten(source, PREHEADER_MAX_CHARS)


def _meta_line(post: Post) -> str:
    parts = [post.category or ""]
    if post.reading_minutes:
        parts.append(f"{post.reading_minutes} min leestijd")
    return " · ".join(p for p in parts if p)


def _text_size(block: Block) -> int:
    return len(block.text) + sum(len(item) for item in block.items)


def _html_bytes(edition: RenderedEdition) -> int:
    return len(edition.html.encode("utf-8"))


def _refuse_placeholders_in(post: Post) -> None:
    """A post quoting a placeholder would get a subscriber's URL spliced into its text."""
    document = json.dumps(post.to_json(), ensure_ascii=False)
    if any(placeholder in document for placeholder in PLACEHOLDERS):
        raise RenderError(f"post {post.slug!r} contains a reserved placeholder text")
