"""RFC 5965 feedback reports (``returns.arf``): each Feedback-Type to its kind, and only
the quoted headers of a complaint are read."""

from __future__ import annotations

import pytest

from newsletter.returns.parse import Kind, classify
from tests.support.reports import MESSAGE_ID, corpus, only_verdict
from tests.support.returned import nested_message


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


def arf(feedback_type: str) -> bytes:
    return (
        "From: feedback@fbl.voorbeeld.nl\nTo: abuse@gerritvanderheide.com\nSubject: report\n"
        'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=feedback-report; boundary="A"\n\n'
        "--A\nContent-Type: text/plain\n\nA report.\n"
        f"--A\nContent-Type: message/feedback-report\n\nFeedback-Type: {feedback_type}\n"
        "User-Agent: FBL/1.0\nVersion: 1\nOriginal-Rcpt-To: <lezer1@voorbeeld.nl>\n\n"
        f"--A\nContent-Type: text/rfc822-headers\n\nMessage-ID: {MESSAGE_ID}\n\n--A--\n"
    ).encode()


@pytest.mark.parametrize(
    ("feedback_type", "kind", "reason"),
    [
        ("abuse", Kind.COMPLAINT, "abuse"),
        ("fraud", Kind.COMPLAINT, "fraud"),
        ("virus", Kind.COMPLAINT, "virusreport"),
        ("other", Kind.COMPLAINT, "other"),
        ("opt-out", Kind.UNSUBSCRIBE, "optout"),
        ("auth-failure", Kind.IGNORED, "authreport"),
        ("not-spam", Kind.IGNORED, "notspam"),
        ("something-new", Kind.IGNORED, "notabounce"),
    ],
)
def test_each_feedback_type(feedback_type: str, kind: Kind, reason: str) -> None:
    (verdict,) = classify(arf(feedback_type))
    assert (verdict.kind, verdict.reason) == (kind, reason)
    assert verdict.recipients == ("lezer1@voorbeeld.nl",)
