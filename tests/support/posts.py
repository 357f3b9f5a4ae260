"""One post factory: a post in the blog's own voice, short by default.

Short keeps big sends quick; ``every_block=True`` gives the post with one block of every
type that the render tests need to see each template path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from newsletter.content.post import Block, Post, QuestionAnswer
from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.db.models import Feed

SHORT_BLOCKS = (
    Block("paragraph", "Een drukke week vraagt om kleine pauzes."),
    Block("heading", "Kleine stappen"),
    # A line that starts with a dot, for the SMTP dot-stuffing.
    Block("paragraph", ".Een regel die met een punt begint, voor de SMTP-dotstuffing."),
)

EVERY_BLOCK = (
    Block("paragraph", "In een drukke wereld vergeten we soms waar rust begint."),
    Block("quote", '"Echte kracht is stil. Ze fluistert je terug naar huis."'),
    Block("heading", "Wat rust werkelijk is — en waarom ze ruimte geeft"),
    Block("paragraph", "Voorbeeld: Je zit in een overleg en je lichaam trekt samen."),
    Block("prompt", "💡 Wanneer voelde jij voor het laatst wat je lichaam zei?"),
    Block("list", "", ("uitstelgedrag", "vermijding van keuzes", "een gevoel van leegte")),
    Block("subheading", "1. Stilstaan bij jezelf"),
    Block("paragraph", "Een paar keer per dag één diepe ademhaling kan al genoeg zijn."),
    Block("read_more", "Waarom vertragen belangrijk is voor je gezondheid"),
    Block(
        "related",
        "Hier zijn enkele artikelen die je verder helpen:",
        ("Loslaten in 3 stappen", "Zelfcompassie"),
    ),
)

EVERY_BLOCK_QUESTIONS = (
    QuestionAnswer("Waar voel jij spanning in je lijf?", "Je lijf weet het eerder dan je hoofd."),
    QuestionAnswer("Welke gedachte keert steeds terug?", "Herhaling wijst op een oud patroon."),
    QuestionAnswer("Welke kleine stap kies je vandaag?", "Eén stap is genoeg."),
)
EVERY_BLOCK_FAQ = (
    QuestionAnswer(
        "Hoe herken ik dat ik niet vanuit rust leef?",
        "Je merkt het wanneer je meer reageert dan kiest.",
    ),
)


def make_post(
    slug: str = "rust-vinden",
    title: str = "Rust vinden in een drukke week",
    *,
    every_block: bool = False,
    **fields: Any,
) -> Post:
    """A post; ``fields`` replace any other field of :class:`Post`."""
    post = Post(
        slug=slug,
        title=title,
        source="handmade",
        category="Jij en Jezelf",
        reading_minutes=3,
        lead="Rust begint bij één bewuste ademhaling.",
        questions=(QuestionAnswer("Wanneer adem jij bewust?", "Vaker dan je denkt."),),
        blocks=SHORT_BLOCKS,
    )
    if every_block:
        post = replace(
            post,
            reading_minutes=6,
            lead="Rust ontstaat niet door harder te werken, maar door te voelen wat je vasthoudt.",
            questions=EVERY_BLOCK_QUESTIONS,
            blocks=EVERY_BLOCK,
            faq=EVERY_BLOCK_FAQ,
        )
    return replace(post, **fields)


def rich_post() -> Post:
    """The render tests' post: every block type, a long title with a dash."""
    return make_post(
        "innerlijke-rust",
        "Innerlijke rust: thuiskomen in jezelf — ook als het schuurt",
        every_block=True,
    )


BLOG = "https://www.gerritvanderheide.com"


def busy_week_post() -> Post:
    """The rich post as a feed brings it, with its address on the blog."""
    return replace(rich_post(), url=f"{BLOG}/innerlijke-rust/")


def card_posts() -> list[Post]:
    """Two new posts as a feed brings them: a URL each, a lead of a few sentences."""
    return [
        make_post(
            "loslaten-deel-2",
            "Loslaten, deel 2: wat je vasthoudt",
            url=f"{BLOG}/loslaten-deel-2/",
            lead="Loslaten begint bij opmerken. Je hoeft niets te forceren. Het mag langzaam.",
        ),
        make_post(
            "zelfcompassie",
            "Zelfcompassie als je moe bent",
            url=f"{BLOG}/zelfcompassie/",
            lead=(
                "Wie moe is, wordt vaak strenger voor zichzelf, terwijl juist dan een zachte "
                "blik het verschil maakt tussen doorgaan en werkelijk uitrusten. Daarom dit."
            ),
        ),
    ]


def add_post(database: Database, post: Post | None = None) -> str:
    """Import ``post`` (the short default) into the queue; its slug."""
    post = post or make_post()
    with database.session() as session:
        post_queue.import_posts(session, [post])
    return post.slug


FEED_ADDED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def add_blog_posts(database: Database, new: Sequence[Post], old: Sequence[Post] = ()) -> None:
    """Posts a feed brought: ``new`` ones published after its first poll (a day apart, in
    the order given), ``old`` ones before it (the back catalogue)."""
    with database.session() as session:
        feed = Feed(url=f"{BLOG}/feed/", added_at=FEED_ADDED)
        session.add(feed)
        session.flush()
        dated = [
            *(
                replace(p, published_at=FEED_ADDED - timedelta(days=n))
                for n, p in enumerate(old, 1)
            ),
            *(
                replace(p, published_at=FEED_ADDED + timedelta(days=n))
                for n, p in enumerate(new, 1)
            ),
        ]
        post_queue.import_posts(session, dated)
        for post in dated:
            post_queue.get(session, post.slug).feed_id = feed.id
