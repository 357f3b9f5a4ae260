"""The pure classifier: each corpus message gets its kind from its structure, without a
database; reasons are one printable line without addresses; files that are no mail are
told apart from mail that is no bounce. Each format has its own file (test_dsn, test_arf,
test_notices, test_nonstandard), as has what every verdict carries (test_verdict)."""

from __future__ import annotations

import pytest

from newsletter.errors import NotAMailError, UnreadableMessageError
from newsletter.returns.parse import (
    MAX_DEPTH,
    MAX_MESSAGE_BYTES,
    Kind,
    is_report,
)
from tests.support.reports import MESSAGE_ID, corpus, only_verdict
from tests.support.returned import CORPUS, EXPECTED, nested_message, oversized_message

# Without a delivery to tie them to, these are what they look like: bounces.
KINDS = {**{name: result for name, (result, _) in EXPECTED.items()}}
KINDS.update({"forged_token.eml": "hard", "unknown_address.eml": "hard"})


@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_corpus_message_is_classified_by_its_structure(name: str) -> None:
    verdict = only_verdict(corpus(name))
    assert verdict.kind == KINDS[name]
    if verdict.kind != Kind.IGNORED and name != "unknown_address.eml":
        assert verdict.recipients == ("lezer1@voorbeeld.nl",)
        assert MESSAGE_ID in verdict.message_ids
    assert "\n" not in verdict.diagnostic and "@" not in verdict.diagnostic


def test_the_report_own_message_id_is_never_taken_for_ours() -> None:
    verdict = only_verdict(corpus("gmail_hard.eml"))
    assert all("mx.google.com" not in found for found in verdict.message_ids)


@pytest.mark.parametrize(
    "raw",
    [b"", b"   \n", b"\x00\x01\x02binary", b"email,name\nanna@voorbeeld.nl,Anna\n", b'{"a": 1}'],
)
def test_what_is_no_mail_at_all(raw: bytes) -> None:
    with pytest.raises(NotAMailError):
        only_verdict(raw)
    with pytest.raises(NotAMailError):
        only_verdict((CORPUS / "not_a_mail.pdf").read_bytes())


@pytest.mark.parametrize("depth", [MAX_DEPTH, 3000])
def test_mail_nested_too_deep_is_unreadable(depth: int) -> None:
    """Issue 20: 3,000 nested multiparts raised RecursionError. The depth is bounded while
    parsing (``depth`` multiparts around a text part are ``depth + 1`` parts deep)."""
    with pytest.raises(UnreadableMessageError, match=f"nested more than {MAX_DEPTH} parts deep"):
        only_verdict(nested_message(depth))
    assert only_verdict(nested_message(MAX_DEPTH - 1)).kind == Kind.IGNORED


def test_mail_over_the_size_cap_is_unreadable() -> None:
    with pytest.raises(UnreadableMessageError, match="larger than 10 MB"):
        only_verdict(oversized_message(MAX_MESSAGE_BYTES + 1))
    assert only_verdict(oversized_message(MAX_MESSAGE_BYTES)).kind == Kind.IGNORED


@pytest.mark.parametrize("name", sorted(KINDS))
def test_a_report_by_its_looks_is_a_bounce_or_a_complaint(name: str) -> None:
    """What the listener asks of mail to ``from_address``: a bounce or complaint, tied to
    a delivery or not, is a report; a reply is not, and neither is what is no mail."""
    assert is_report(corpus(name)) == (KINDS[name] != Kind.IGNORED)
    assert not is_report(b"")
    assert not is_report((CORPUS / "not_a_mail.pdf").read_bytes())
