"""The short cards of a busy week: other new posts, shown below the edition's own post.

A card is a door to the blog, not a second article: the title, a sentence or two of the
lead and a "Lees verder op de blog" link. So it must stay short whatever the lead is like;
a long first sentence is cut at a word, a short one gets the next sentence for company.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from newsletter.content.post import Post
from newsletter.mail.text import one_line, shorten

# A card's teaser: one sentence, or two when the first is this short, never more than the max.
_SHORT_SENTENCE_CHARS = 90
TEASER_MAX_CHARS = 240
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True, slots=True)
class Card:
    slug: str
    title: str
    teaser: str
    url: str


def card_of(post: Post, url: str) -> Card:
    """``post`` as a card linking to ``url`` (the renderer has checked it is http(s))."""
    return Card(slug=post.slug, title=one_line(post.title), teaser=teaser(post), url=url)


def teaser(post: Post) -> str:
    """The first sentence or two of the lead (else of the first paragraph), cut to size."""
    paragraphs = (block.text for block in post.blocks if block.type == "paragraph")
    source = one_line(post.lead or next((p for p in paragraphs if p.strip()), ""))
    sentences = _SENTENCE_END.split(source)
    text = sentences[0]
    if len(text) < _SHORT_SENTENCE_CHARS and len(sentences) > 1:
        text = f"{text} {sentences[1]}"
    return shorten(text, TEASER_MAX_CHARS)
