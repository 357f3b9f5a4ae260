"""The slug is the queue's key for a post: the same title must always give the same slug,
one a URL and the ``slug`` column can hold."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from newsletter.content.slug import MAX_SLUG_CHARS, slugify


def test_words_become_lowercase_ascii_joined_by_hyphens() -> None:
    assert slugify("Mededogen met jezelf") == "mededogen-met-jezelf"
    assert slugify("  Wat is *mindfulness*?! ") == "wat-is-mindfulness"


def test_accents_are_folded_not_dropped() -> None:
    assert slugify("Één keer per week: café-praat") == "een-keer-per-week-cafe-praat"


def test_a_long_title_is_cut_at_a_hyphen() -> None:
    slug = slugify("woord " * 60)
    assert len(slug) <= MAX_SLUG_CHARS
    assert slug.endswith("woord") and not slug.endswith("-")


def test_a_title_without_ascii_letters_gets_a_stable_hash() -> None:
    assert slugify("🌱🌱") == slugify("🌱🌱")
    assert slugify("🌱🌱") != slugify("🌿🌿")
    assert re.fullmatch(r"post-[0-9a-f]{10}", slugify("🌱🌱"))


@given(st.text())
def test_any_title_gives_a_usable_slug(title: str) -> None:
    slug = slugify(title)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug)
    assert len(slug) <= MAX_SLUG_CHARS
