"""Slugs: the stable key a post is queued under, derived from its title.

The slug comes from the title, not from a file name or URL, so the same post imported from
the scraped page, a Markdown file or the feed lands on the same queue entry.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_SLUG_CHARS = 120  # the queue's slug column holds 200; long titles are cut at a hyphen
_NON_SLUG_RE = re.compile(r"[^a-z0-9]+")


def slugify(title: str) -> str:
    """Lowercase ASCII words joined by hyphens ("Mededogen met jezelf" → "mededogen-met-jezelf").

    Accents are folded ("één" → "een"). A title without any ASCII letter or digit still
    needs a key, so it gets a short hash of the title instead.
    """
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = _NON_SLUG_RE.sub("-", folded.lower()).strip("-")
    if len(slug) > MAX_SLUG_CHARS:
        slug = slug[:MAX_SLUG_CHARS].rsplit("-", 1)[0]
    if not slug:
        slug = "post-" + hashlib.sha256(title.encode("utf-8")).hexdigest()[:10]
    return slug
