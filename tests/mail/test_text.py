"""The text part's helpers: 72 columns without splitting a word or a URL, underlined
headings, numbered footnotes, and the tidy-up after the template."""

from __future__ import annotations

from jinja2 import Environment

from newsletter.mail.text import (
    TEXT_WIDTH,
    Footnotes,
    install_text_helpers,
    render_text,
    underline,
    wrap,
)

URL = "https://www.gerritvanderheide.com/" + "heel-lang-bericht-" * 6


def test_footnotes_number_urls_in_order_of_first_mention() -> None:
    notes = Footnotes()
    assert [notes.ref("a"), notes.ref("b"), notes.ref("a"), notes.ref("c")] == [
        "[1]",
        "[2]",
        "[1]",
        "[3]",
    ]
    assert notes.urls == ["a", "b", "c"]


def test_wrap_keeps_to_72_columns_and_never_splits_a_url() -> None:
    text = "Een zin die doorloopt, " * 12 + URL + " en daarna nog wat woorden."
    lines = wrap(text).splitlines()
    assert URL in lines
    assert all(len(line) <= TEXT_WIDTH for line in lines if line != URL)
    assert " ".join(lines) == " ".join(text.split())


def test_wrap_indents_after_a_first_line_prefix_and_keeps_no_break_spaces() -> None:
    wrapped = wrap("woord " * 20, indent="   ", first=" - ")
    first, *rest = wrapped.splitlines()
    assert first.startswith(" - woord") and all(line.startswith("   woord") for line in rest)
    assert wrap("10\u00a0km  lopen\n\tvandaag") == "10\u00a0km lopen vandaag"


def test_underline_is_as_wide_as_the_longest_line() -> None:
    assert underline("Kleine stappen", "-") == "Kleine stappen\n--------------"
    heading = underline("Wat rust werkelijk is " * 5, "=")
    *lines, rule = heading.splitlines()
    assert len(lines) == 2 and rule == "=" * max(len(line) for line in lines)


def test_render_text_gives_fresh_footnotes_and_single_blank_lines() -> None:
    environment = Environment(autoescape=False)
    install_text_helpers(environment)
    template = environment.from_string(
        "\n\n{{ 'Kop' | underline('=') }}   \n\n\n\nZie {{ footnotes.ref('u') }}"
        "{{ footnotes.ref('v') }}\n\n\n{{ ('x ' * 40) | wrap }}\n\n"
    )
    first = render_text(template, {})
    assert first == render_text(template, {})  # the numbers start at 1 every time
    assert first.startswith("Kop\n===\n\nZie [1][2]\n\nx x")
    assert "\n\n\n" not in first and " \n" not in first and first.endswith("x\n")
