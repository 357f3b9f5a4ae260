"""Mail back that is no delivery report (``returns.notices``): a hand-written abuse
report quoting our message, a mail client's unsubscribe, automatic replies."""

from __future__ import annotations

import pytest

from newsletter.returns.parse import Kind, classify, is_report
from tests.support.reports import MESSAGE_ID, QUOTED, mail


@pytest.mark.parametrize(
    ("subject", "own"),
    [
        ("Abuse report", "We received a complaint about unsolicited bulk email from your server."),
        ("SPAM - stop", "Ik heb me nooit aangemeld. Dit is spam."),
        ("Beschwerde", "Unerwünschte Werbung, bitte entfernen."),
    ],
)
def test_a_hand_written_abuse_report_quoting_our_message_is_a_complaint(
    subject: str, own: str
) -> None:
    (verdict,) = classify(mail(subject, f"{own}\n\n{QUOTED}"))
    assert (verdict.kind, verdict.reason) == (Kind.COMPLAINT, "abuse")
    assert verdict.recipients == ("lezer1@voorbeeld.nl",)
    assert verdict.message_ids == (MESSAGE_ID,)


def test_a_reply_quoting_us_without_abuse_words_is_no_complaint() -> None:
    (verdict,) = classify(mail("Re: Rust vinden", f"Mooi stuk, dank je!\n\n{QUOTED}"))
    assert (verdict.kind, verdict.reason) == (Kind.IGNORED, "notabounce")


def test_a_mail_client_unsubscribe_is_one_but_not_a_report_for_the_listener() -> None:
    """Apple Mail's header, or just our mailto subject: the reader leaves; the listener
    reads the signed token instead of trusting the From (is_report is False)."""
    for raw in (
        mail(
            "unsubscribe-Mjc.b3Bab2tWc2Y0RXc",
            "",
            "X-Apple-Unsubscribe: true\n",
            "lezer1@voorbeeld.nl",
        ),
        mail("unsubscribe-Mjc.b3Bab2tWc2Y0RXc", "", "", "Lezer <Lezer1@voorbeeld.nl>"),
    ):
        (verdict,) = classify(raw)
        assert (verdict.kind, verdict.reason) == (Kind.UNSUBSCRIBE, "listunsubscribe")
        assert verdict.recipients == ("lezer1@voorbeeld.nl",)
        assert not is_report(raw)


@pytest.mark.parametrize(
    ("subject", "body", "headers"),
    [
        ("Automatic reply: Rust vinden", "I am out of the office.", ""),
        ("Automatisch antwoord: Rust vinden", "Ik ben afwezig tot maandag.", ""),
        ("Abwesenheitsnotiz", "Ich bin bis Montag nicht im Büro.", ""),
        ("Réponse automatique", "Je suis absente jusqu'à lundi.", ""),
        ("Re: Rust vinden", "Ik ben momenteel afwezig.", ""),
        ("Re: Rust vinden", "Thanks", "Auto-Submitted: auto-replied\n"),
        ("=?utf-8?B?6Ieq5YuV6L+U5L+hOiDkuI3lnKg=?=", "不在です。", ""),
    ],
)
def test_automatic_replies_by_their_headers_or_their_words(
    subject: str, body: str, headers: str
) -> None:
    (verdict,) = classify(mail(subject, body, headers))
    assert (verdict.kind, verdict.reason) == (Kind.IGNORED, "autoreply")
