"""The pure classifier: each corpus message gets its kind from its structure, without a
database; reasons are one printable line without addresses; files that are no mail are
told apart from mail that is no bounce."""

from __future__ import annotations

import pytest

from newsletter.errors import NotAMailError, UnreadableMessageError
from newsletter.returns.parse import (
    MAX_DEPTH,
    MAX_MESSAGE_BYTES,
    Kind,
    Verdict,
    classify,
    clean_reason,
    is_report,
)
from tests.support.returned import CORPUS, EXPECTED, nested_message, oversized_message

MESSAGE_ID = "<3.2.20261207060000@gerritvanderheide.com>"
PLACEHOLDERS = {
    b"%%RETURN_PATH%%": b"bounces+2-abcdefghijklm@gerritvanderheide.com",
    b"%%FORGED_RETURN_PATH%%": b"bounces+2-aaaaaaaaaaaaa@gerritvanderheide.com",
    b"%%RECIPIENT%%": b"lezer1@voorbeeld.nl",
    b"%%MESSAGE_ID%%": MESSAGE_ID.encode(),
    b"%%FROM%%": b"nieuwsbrief@gerritvanderheide.com",
    b"%%BOUNCES%%": b"bounces@gerritvanderheide.com",
}
# Without a delivery to tie them to, these are what they look like: bounces.
KINDS = {**{name: result for name, (result, _) in EXPECTED.items()}}
KINDS.update({"forged_token.eml": "hard", "unknown_address.eml": "hard"})


def only_verdict(raw: bytes) -> Verdict:
    """The verdict on a message that names one recipient."""
    (verdict,) = classify(raw)
    return verdict


def corpus(name: str) -> bytes:
    raw = (CORPUS / name).read_bytes()
    for placeholder, value in PLACEHOLDERS.items():
        raw = raw.replace(placeholder, value)
    return raw


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


def test_a_dsn_names_its_final_and_its_original_recipient() -> None:
    """A reader's address that forwards: the final recipient failed, the original one is
    the address we sent to. Both are the report's recipients (the caller matches either
    against the reader of our Message-ID); a DSN that names none has no recipients."""
    forwarded = corpus("postfix_hard.eml").replace(
        b"Final-Recipient: rfc822; lezer1@voorbeeld.nl",
        b"Final-Recipient: rfc822; Lezer.Een@Elders.example",
    )
    verdict = only_verdict(forwarded)
    assert verdict.kind == Kind.HARD
    assert verdict.recipients == ("lezer.een@elders.example", "lezer1@voorbeeld.nl")
    anonymous = b"\n".join(
        line
        for line in corpus("postfix_hard.eml").split(b"\n")
        if not line.startswith((b"Final-Recipient:", b"Original-Recipient:"))
    )
    assert only_verdict(anonymous).recipients == ()


@pytest.mark.parametrize(
    ("status", "kind"),
    [("5.1.1", "hard"), ("5.0.0", "hard"), ("5.2.2", "soft"), ("5.7.1", "soft"), ("4.2.2", "soft")],
)
def test_which_failures_are_hard(status: str, kind: str) -> None:
    raw = corpus("postfix_hard.eml").replace(b"Status: 5.1.1", f"Status: {status}".encode())
    assert only_verdict(raw).kind == kind


def test_a_delivery_report_that_says_delivered_is_no_bounce() -> None:
    raw = corpus("postfix_hard.eml").replace(b"Action: failed", b"Action: delivered")
    assert only_verdict(raw).kind == Kind.IGNORED


@pytest.mark.parametrize(
    "raw",
    [b"", b"   \n", b"\x00\x01\x02binary", b"email,name\nanna@voorbeeld.nl,Anna\n", b'{"a": 1}'],
)
def test_what_is_no_mail_at_all(raw: bytes) -> None:
    with pytest.raises(NotAMailError):
        only_verdict(raw)
    with pytest.raises(NotAMailError):
        only_verdict((CORPUS / "not_a_mail.pdf").read_bytes())


def test_reasons_are_one_printable_line_without_addresses() -> None:
    dirty = "550 5.1.1 <joost@voorbeeld.nl>:\r\n user \x1b[31munknown\x07 joost@voorbeeld.nl"
    assert clean_reason(dirty) == "550 5.1.1 <address>: user [31munknown <address>"


def test_headers_quoted_in_a_complaint_are_read_as_headers_only() -> None:
    """Issue 20: a complaint whose text/rfc822-headers part holds a message nested 3,000
    deep sent the classifier into RecursionError; only the quoted headers are parsed."""
    arf = corpus("yahoo_arf.eml").replace(b"Original-Rcpt-To: <lezer1@voorbeeld.nl>\n", b"")
    report, _, _ = arf.partition(b"Content-Type: message/rfc822\n")
    raw = (
        report
        + b"Content-Type: text/rfc822-headers\n\n"
        + nested_message(3000, "lezer1@voorbeeld.nl")
    )

    verdict = only_verdict(raw)

    assert (verdict.kind, verdict.recipients) == (Kind.COMPLAINT, ("lezer1@voorbeeld.nl",))


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
