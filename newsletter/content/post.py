"""The structured post every source format is turned into, and its JSON form.

A ``Post`` is plain, immutable data: the render stage reads it, the store keeps its JSON
(``to_json``) so a queued post is rendered exactly as it was parsed, and ``posts parse
--json`` prints the same JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from newsletter.errors import ContentError

BlockType = Literal[
    "heading", "subheading", "paragraph", "list", "prompt", "quote", "read_more", "related"
]
BLOCK_TYPES: tuple[BlockType, ...] = (
    "heading",
    "subheading",
    "paragraph",
    "list",
    "prompt",
    "quote",
    "read_more",
    "related",
)


WEB_SCHEMES = frozenset({"http", "https"})


def is_web_url(url: str) -> bool:
    """An absolute http(s) URL with a host, and nothing a browser would read differently.

    A post's URL becomes the href of "Lees verder op de blog" in every email and on the
    archive page: ``javascript:`` or ``data:`` there would run in a reader's browser.
    Whitespace and control characters are refused outright, since browsers drop them
    (``java\\nscript:``) before they look at the scheme.
    """
    if not url or any(c.isspace() or not c.isprintable() for c in url):
        return False
    parts = urlsplit(url)
    return parts.scheme.lower() in WEB_SCHEMES and bool(parts.hostname)


def check_post_url(url: str | None, *, source: str, line: int | None = None) -> None:
    """Raise :class:`ContentError` (naming the post's source) for a URL that is not http(s)."""
    if url is not None and not is_web_url(url):
        raise ContentError(
            f"the post's url must be an http:// or https:// address, got {url!r}",
            source=source,
            line=line,
        )


@dataclass(frozen=True, slots=True)
class Block:
    """One piece of the article body.

    ``items`` is used by ``list`` (the bullet texts) and ``related`` (article titles);
    for ``read_more`` the ``text`` is the title of the article referred to. A ``related``
    block keeps the author's own title of the section ("Ontdek meer...") in ``heading``
    and its introduction in ``text``; the email uses a generic label only without one.
    """

    type: BlockType
    text: str
    items: tuple[str, ...] = ()
    heading: str = ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type, "text": self.text}
        if self.type in ("list", "related"):
            data["items"] = list(self.items)
        if self.heading:  # only when set, so the JSON of posts without one stays as it was
            data["heading"] = self.heading
        return data


@dataclass(frozen=True, slots=True)
class QuestionAnswer:
    question: str
    answer: str

    def to_json(self) -> dict[str, str]:
        return {"question": self.question, "answer": self.answer}


@dataclass(frozen=True, slots=True)
class Post:
    slug: str
    title: str
    source: str
    short_title: str | None = None
    category: str | None = None
    reading_minutes: int | None = None
    lead: str | None = None
    questions: tuple[QuestionAnswer, ...] = ()
    blocks: tuple[Block, ...] = ()
    faq: tuple[QuestionAnswer, ...] = ()
    # The author's title of the FAQ ("Veelgestelde vragen over …"); None: a generic one.
    faq_heading: str | None = None
    related: tuple[str, ...] = field(default=())
    published_at: datetime | None = None
    url: str | None = None
    # Only a summary was available (a feed without full text): the email is an excerpt
    # that sends the reader to the blog ("Lees verder op de blog").
    summary_only: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "slug": self.slug,
            "title": self.title,
            "short_title": self.short_title,
            "category": self.category,
            "reading_minutes": self.reading_minutes,
            "lead": self.lead,
            "questions": [q.to_json() for q in self.questions],
            "blocks": [b.to_json() for b in self.blocks],
            "faq": [q.to_json() for q in self.faq],
            "related": list(self.related),
            "source": self.source,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "url": self.url,
        }
        # Only when set, so the JSON (and the content hash) of older posts stays as it was.
        if self.faq_heading:
            data["faq_heading"] = self.faq_heading
        if self.summary_only:
            data["summary_only"] = True
        return data

    def outline(self) -> list[str]:
        """The post at a glance: slug and title, its counts, then its headings indented by
        level; what ``posts parse`` and ``posts show`` print, so a parsed post and a stored
        one read the same."""
        lines = [
            f"{self.slug}: {self.title}",
            f"  {len(self.questions)} questions, {len(self.blocks)} blocks, "
            f"{len(self.faq)} FAQ entries",
        ]
        for block in self.blocks:
            if block.type in ("heading", "subheading"):
                indent = "  " if block.type == "heading" else "    "
                lines.append(f"{indent}{block.text}")
        return lines

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Post:
        published = data.get("published_at")
        return cls(
            slug=data["slug"],
            title=data["title"],
            source=data.get("source", ""),
            short_title=data.get("short_title"),
            category=data.get("category"),
            reading_minutes=data.get("reading_minutes"),
            lead=data.get("lead"),
            questions=tuple(QuestionAnswer(q["question"], q["answer"]) for q in data["questions"]),
            blocks=tuple(
                Block(
                    cast(BlockType, b["type"]),
                    b["text"],
                    tuple(b.get("items", ())),
                    b.get("heading", ""),
                )
                for b in data["blocks"]
            ),
            faq=tuple(QuestionAnswer(q["question"], q["answer"]) for q in data["faq"]),
            faq_heading=data.get("faq_heading"),
            related=tuple(data.get("related", ())),
            published_at=datetime.fromisoformat(published) if published else None,
            url=data.get("url"),
            summary_only=bool(data.get("summary_only", False)),
        )
