"""From paragraph-sized units to the parts of a post: questions, blocks, FAQ, related titles.

Each source format first cuts its text into :class:`Unit` s: the scraped-text parser into
lines (whose role is still unknown), the HTML and Markdown parsers into paragraphs, headings,
lists and quotes (whose role their markup tells). From there the work is the same for all of
them, so it lives here: find where the article ends and the site's own page begins, drop
site furniture, and read the blog's special sections ("Drie vragen …", "Veelgestelde
vragen …", "Ontdek meer …") into their own fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from newsletter.content.classify import (
    ARROW,
    HEADING_MAX_CHARS,
    LINK_MARK,
    bullet_text,
    clean_text,
    has_pull_quote_shape,
    is_button,
    is_description,
    is_example,
    is_faq_marker,
    is_furniture,
    is_questions_marker,
    is_related_marker,
    is_section_marker,
    is_sign_off,
    is_sign_up_box,
    is_single_sentence,
    is_site_faq_intro,
    is_testimonial,
    looks_like_heading,
    prompt_text,
    quote_text,
    split_glued_items,
    split_read_more,
)
from newsletter.content.post import Block, BlockType, QuestionAnswer

# "line": a scraped line whose role must be inferred (it may be a heading);
# "paragraph": a paragraph by markup (may still be a prompt, quote or cross reference).
UnitKind = Literal["line", "paragraph", "heading", "subheading", "list", "quote"]


@dataclass(frozen=True, slots=True)
class Unit:
    kind: UnitKind
    text: str = ""
    items: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ArticleBody:
    """Everything of a post below its title and lead."""

    questions: tuple[QuestionAnswer, ...] = ()
    blocks: tuple[Block, ...] = ()
    faq: tuple[QuestionAnswer, ...] = ()
    faq_heading: str | None = None
    related: tuple[str, ...] = ()


def article_end(texts: Sequence[str]) -> int:
    """Index of the first text that belongs to the site's page rather than to the article.

    The page's own sign-off ("Groet," Gerrit) closes the article; what follows is the
    category FAQ of the site. Without a sign-off, an FAQ that comes after the newsletter
    sign-up box is the site's too: the article's own FAQ always comes before that box.
    """
    seen_sign_up_box = False
    for index, text in enumerate(texts):
        if is_sign_off(text) or is_site_faq_intro(text):
            return index
        if is_sign_up_box(text):
            seen_sign_up_box = True
        elif seen_sign_up_box and is_faq_marker(text):
            return index
    return len(texts)


def assemble(units: Sequence[Unit]) -> ArticleBody:
    """Read the article's parts from its units (furniture and the site's tail are dropped)."""
    cleaned = [_cleaned(unit) for unit in units]
    end = article_end([unit.text for unit in cleaned])
    return _Assembler(drop_furniture(cleaned[:end])).run()


def _cleaned(unit: Unit) -> Unit:
    """The unit with normalised whitespace: every check below relies on clean text."""
    text = clean_text(unit.text)
    items = tuple(item for item in map(clean_text, unit.items) if item)
    if text == unit.text and items == unit.items:
        return unit
    return replace(unit, text=text, items=items)


def drop_furniture(units: Sequence[Unit]) -> list[Unit]:
    """Remove site furniture, including the two-line widgets that need their neighbour.

    A call-to-action button takes its caption along (the one sentence right above it, as in
    "Vrijheid begint niet bij méér doen …" over "Begin met loslaten, stap voor stap →"),
    and a testimonial is a quote followed by its "— Name, role" attribution.
    """
    kept: list[Unit] = []
    index = 0
    while index < len(units):
        unit = units[index]
        following = units[index + 1] if index + 1 < len(units) else None
        if unit.kind == "list":
            items = tuple(item for item in unit.items if not is_furniture(item))
            if items:
                kept.append(replace(unit, items=items))
        elif _is_testimonial(unit, following):
            index += 1
        elif is_furniture(unit.text):
            if is_button(unit.text) and kept and _is_caption(kept[-1]):
                kept.pop()
        else:
            kept.append(unit)
        index += 1
    return kept


def _is_testimonial(unit: Unit, following: Unit | None) -> bool:
    if following is None or following.kind not in ("line", "paragraph"):
        return False
    if unit.kind == "quote":  # a blockquote is a quote with or without quote marks
        return is_testimonial(f"“{quote_text(unit.text) or unit.text}”", following.text)
    return unit.kind in ("line", "paragraph") and is_testimonial(unit.text, following.text)


def _is_caption(unit: Unit) -> bool:
    text = unit.text
    return (
        unit.kind in ("line", "paragraph")
        and len(text) <= HEADING_MAX_CHARS
        and is_single_sentence(text)
        and not (prompt_text(text) or quote_text(text) or is_section_marker(text))
        and split_read_more(text) is None
    )


# Two marked pull quotes make a page's style (one may be a quoted saying in a box).
_MARKED_QUOTES_OF_A_STYLE = 2


class _Assembler:
    """One pass over the units; the special sections are read by their own small readers."""

    def __init__(self, units: Sequence[Unit]) -> None:
        self.units = units
        # A page that puts quote marks around its pull quotes does so for all of them: then
        # an unmarked line is prose, however quotable it sounds.
        self.marks_its_quotes = (
            sum(unit.kind == "line" and quote_text(unit.text) is not None for unit in units)
            >= _MARKED_QUOTES_OF_A_STYLE
        )
        self.blocks: list[Block] = []
        self.questions: list[QuestionAnswer] = []
        self.faq: list[QuestionAnswer] = []
        self.faq_heading: str | None = None
        self.related: list[str] = []
        # After "… om de volgende redenen:" short title lines are sub-headings of that
        # enumeration (each followed by its description), not new sections.
        self.enumerating = False

    def run(self) -> ArticleBody:
        index = 0
        while index < len(self.units):
            index = self._step(index)
        return ArticleBody(
            questions=tuple(self.questions),
            blocks=tuple(self.blocks),
            faq=tuple(self.faq),
            faq_heading=self.faq_heading,
            related=tuple(self.related),
        )

    def _step(self, index: int) -> int:
        unit = self.units[index]
        if unit.kind != "list":
            if is_questions_marker(unit.text):
                return self._read_questions(index + 1)
            if is_faq_marker(unit.text):
                return self._read_faq(index + 1, unit.text)
            if is_related_marker(unit.text):
                return self._read_related(index + 1, unit.text)
        if unit.kind == "list":
            self._add_list(unit.items)
        elif unit.kind in ("heading", "subheading"):
            self._add("heading" if unit.kind == "heading" else "subheading", unit.text)
        elif unit.kind == "quote":
            self._add("quote", quote_text(unit.text) or unit.text)
        else:
            self._add_text(unit, self._unit_after(index))
        return index + 1

    def _add(
        self, kind: BlockType, text: str, items: Sequence[str] = (), *, heading: str = ""
    ) -> None:
        text = clean_text(text)
        previous = self.blocks[-1].type if self.blocks else None
        if kind == "paragraph":
            if text.endswith(":"):
                self.enumerating = True
            elif previous not in ("subheading", "read_more"):
                self.enumerating = False
        elif kind not in ("subheading", "read_more"):
            self.enumerating = False
        self.blocks.append(Block(kind, text, tuple(items), heading))

    def _add_text(self, unit: Unit, following: Unit | None) -> None:
        """A paragraph, or a line whose shape makes it a heading. A line right above the
        author's "🔗 …" link is its caption ("Wil je leren …?"), never a section heading."""
        text = unit.text
        is_caption = following is not None and following.text.startswith(LINK_MARK)
        prompt = prompt_text(text)
        quote = quote_text(text)
        if prompt:
            self._add("prompt", prompt)
        elif quote:
            self._add("quote", quote)
        elif reference := split_read_more(text):
            if reference.before:
                self._add("paragraph", reference.before)
            self._add("read_more", reference.title)
            if reference.after:
                self._add("paragraph", reference.after)
        elif self._is_unmarked_pull_quote(unit) and self._stands_apart(following):
            self._add("quote", text)
        elif (
            unit.kind == "line" and following is not None and not is_caption
        ) and looks_like_heading(text):
            self._add(self._heading_level(), text)
        else:
            self._add("paragraph", text)

    def _is_unmarked_pull_quote(self, unit: Unit) -> bool:
        """A scraped line shaped like a pull quote, on a page that does not mark its quotes
        (in a feed or Markdown the markup says what is a quote)."""
        return unit.kind == "line" and not self.marks_its_quotes and has_pull_quote_shape(unit.text)

    def _stands_apart(self, following: Unit | None) -> bool:
        """Whether a line sits outside the running prose, as the blog's pull quotes do.

        They come after an example, a 💡 prompt, a cross reference or another quote, or just
        before a break (:func:`_is_break`). A line right under a heading opens its section,
        and one after "…:" answers it: those are prose.
        """
        previous = self.blocks[-1] if self.blocks else None
        if previous is None or previous.type in ("heading", "subheading"):
            return False
        if previous.type == "paragraph" and previous.text.endswith(":"):
            return False
        after_aside = previous.type in ("prompt", "read_more", "quote") or (
            previous.type == "paragraph" and is_example(previous.text)
        )
        return after_aside or _is_break(following)

    def _unit_after(self, index: int) -> Unit | None:
        return self.units[index + 1] if index + 1 < len(self.units) else None

    def _heading_level(self) -> BlockType:
        previous = self.blocks[-1].type if self.blocks else None
        in_enumeration = self.enumerating and previous in ("paragraph", "read_more")
        return "subheading" if in_enumeration or previous == "heading" else "heading"

    def _add_list(self, items: Sequence[str]) -> None:
        """A list; a last item that alone is a quotation is a pull quote the page bulleted."""
        quotes = [quote_text(item) for item in items]
        last_quote = quotes[-1] if quotes else None
        if len(items) >= 2 and last_quote and not any(quotes[:-1]):
            self._add("list", "", items[:-1])
            self._add("quote", last_quote)
        elif items:
            self._add("list", "", items)

    def _read_questions(self, start: int) -> int:
        """The "Drie vragen …" block: bullets of the form "question → answer"."""
        index = start
        while index < len(self.units):
            unit = self.units[index]
            if unit.kind == "list":
                texts: Sequence[str] = unit.items
            elif unit.kind in ("line", "paragraph") and ARROW in unit.text:
                texts = (unit.text,)
            else:
                break
            for text in texts:
                question, _, answer = text.partition(ARROW)
                question = bullet_text(question) or clean_text(question)
                self.questions.append(QuestionAnswer(question, clean_text(answer)))
            index += 1
        return index

    def _read_faq(self, start: int, marker: str) -> int:
        """The article's FAQ: "Vraag?" then its answer, or both glued in one paragraph.

        The section's title is the author's ("Veelgestelde vragen over innerlijke kracht"):
        the email shows it as written. A second FAQ section keeps the first one's title.
        """
        entries: list[tuple[str, list[str]]] = []
        separate_questions: bool | None = None
        awaiting_answer = False
        index = start
        while index < len(self.units):
            unit = self.units[index]
            text = unit.text
            if _ends_faq(unit):
                break
            glued = None if unit.kind == "subheading" else _split_glued_question(text)
            if unit.kind == "subheading" or (
                text.endswith("?") and (separate_questions or glued is None)
            ):
                entries.append((text, []))
                separate_questions = True if separate_questions is None else separate_questions
                awaiting_answer = True
            elif awaiting_answer:
                entries[-1][1].append(text)
                awaiting_answer = False
            elif glued and not separate_questions:
                entries.append((glued[0], [glued[1]]))
                separate_questions = False
            elif self._is_unmarked_pull_quote(unit) and _is_break(self._unit_after(index)):
                break  # a pull quote after the last answer, before the next section
            elif entries and not looks_like_heading(text):
                entries[-1][1].append(text)
            else:
                break
            index += 1
        for question, answers in entries:
            if not answers and (glued := _split_glued_question(question)):
                question, answers = glued[0], [glued[1]]
            self.faq.append(QuestionAnswer(question, "\n\n".join(answers)))
        if entries and self.faq_heading is None:
            self.faq_heading = marker
        return index

    def _read_related(self, start: int, marker: str) -> int:
        """The "Ontdek meer …" section: an intro, then article titles, each with a description.

        Titles come as "- Titel" items or bare lines, and the scrape often glues a title to
        the end of the previous description. Only the titles are kept; a section whose
        titles were lost by the scrape leaves no block (an intro pointing at nothing).
        """
        intro: str | None = None
        titles: list[str] = []
        previous = "start"
        index = start
        while index < len(self.units):
            unit = self.units[index]
            text = unit.text
            if unit.kind in ("heading", "quote") or is_section_marker(text) or prompt_text(text):
                break
            if unit.kind == "list":
                titles.extend(unit.items)
                previous = "title"
                index += 1
                continue
            parts = split_glued_items(text)
            if (
                previous == "start"
                and len(parts) == 1
                and (text.endswith(":") or is_description(text))
            ):
                intro, previous = text, "intro"
                index += 1
                continue
            if previous != "title" and is_description(parts[0]):
                break  # prose after the list: back to the article
            for part in parts:
                if is_description(part):
                    previous = "description"
                else:
                    titles.append(bullet_text(part) or part)
                    previous = "title"
            index += 1
        if titles:
            self._add("related", intro or "", titles, heading=marker)
            self.related.extend(titles)
        return index


def _is_break(unit: Unit | None) -> bool:
    """A prompt, a heading or one of the closing sections: what a pull quote stands before."""
    return unit is not None and (
        unit.kind == "subheading"
        or bool(prompt_text(unit.text))
        or is_section_marker(unit.text)
        or (unit.kind == "line" and looks_like_heading(unit.text))
    )


def _ends_faq(unit: Unit) -> bool:
    text = unit.text
    return bool(
        unit.kind in ("list", "quote", "heading")
        or is_section_marker(text)
        or prompt_text(text)
        or quote_text(text)
        or split_read_more(text)
    )


def _split_glued_question(text: str) -> tuple[str, str] | None:
    """Cut "Vraag? Antwoord …" into ("Vraag?", "Antwoord …") at the first question mark."""
    mark = text.find("? ")
    if mark < 0:
        return None
    question, answer = clean_text(text[: mark + 1]), clean_text(text[mark + 1 :])
    return (question, answer) if question and answer else None
