"""What every verdict carries (``returns.verdict``): a diagnostic that is one printable
line without addresses, for hand-built reports and every one of the wild corpus."""

from __future__ import annotations

from newsletter.errors import NotAMailError, UnreadableMessageError
from newsletter.returns.parse import classify, clean_reason
from tests.support.wild import wild_corpus


def test_reasons_are_one_printable_line_without_addresses() -> None:
    dirty = "550 5.1.1 <joost@voorbeeld.nl>:\r\n user \x1b[31munknown\x07 joost@voorbeeld.nl"
    assert clean_reason(dirty) == "550 5.1.1 <address>: user [31munknown <address>"


def test_every_diagnostic_of_the_wild_corpus_is_one_line_without_addresses() -> None:
    """Verdicts are stored and printed: the server's words, never the reader's address."""
    for case in wild_corpus():
        if case.is_event:
            continue
        try:
            verdicts = classify(case.raw)
        except (NotAMailError, UnreadableMessageError):
            continue
        for verdict in verdicts:
            assert "\n" not in verdict.diagnostic and "@" not in verdict.diagnostic, case.name
