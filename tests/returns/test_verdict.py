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


def test_a_multi_line_reply_reads_with_its_code_once_and_a_long_one_ends_at_a_word() -> None:
    gmail = (
        "550-5.1.1 The email account that you tried to reach does not exist. Please try "
        "550-5.1.1 double-checking the recipient's email address for typos or "
        "550-5.1.1 unnecessary spaces. Learn more at 550 5.1.1 https://support.google.com/mail"
    )
    assert clean_reason(gmail) == (
        "550 5.1.1 The email account that you tried to reach does not exist. Please try "
        "double-checking the recipient's email address for typos or unnecessary spaces. "
        "Learn more at https://support.google.com/mail"
    )
    assert clean_reason("5.0.0 554 5.2.2 mailbox full") == "5.0.0 554 5.2.2 mailbox full"
    long = clean_reason("rustig " * 60)
    assert len(long) <= 300 and long.endswith("rustig\u2026")
