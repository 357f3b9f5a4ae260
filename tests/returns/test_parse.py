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
from tests.support.wild import wild_corpus

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
    ("status", "diagnostic", "kind"),
    [
        ("5.1.1", "550 5.1.1 User unknown", "hard"),
        ("5.0.0", "550 5.1.1 User unknown", "hard"),
        ("5.0.0", "550 User unknown", "hard"),
        ("5.2.2", "552 5.2.2 Mailbox full", "soft"),
        ("5.7.1", "550 5.7.1 Message rejected by policy", "sender"),
        ("4.2.2", "452 4.2.2 Over quota", "soft"),
        ("5.0.0", "550 Mailbox full", "soft"),
    ],
)
def test_which_failures_are_hard(status: str, diagnostic: str, kind: str) -> None:
    """Only an address gone is hard; Status and Diagnostic-Code both count (the cause in
    the diagnostic wins over a generic Status)."""
    raw = (
        corpus("postfix_hard.eml")
        .replace(b"Status: 5.1.1", f"Status: {status}".encode())
        .replace(
            b"550 5.1.1 <lezer1@voorbeeld.nl>: Recipient address rejected:\n"
            b"    User unknown in virtual mailbox table",
            diagnostic.encode(),
        )
    )
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


def dsn(*blocks: str, human: str = "The mail system\n", headers: str = "") -> bytes:
    """A delivery status notification with one per-recipient block per argument."""
    recipients = "\n\n".join(blocks)
    return (
        "From: MAILER-DAEMON@mx.voorbeeld.nl (Mail Delivery System)\n"
        "To: bounces@gerritvanderheide.com\nSubject: Undelivered Mail Returned to Sender\n"
        f"{headers}MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        f"--B\nContent-Type: text/plain\n\n{human}\n"
        "--B\nContent-Type: message/delivery-status\n\n"
        f"Reporting-MTA: dns; mx.voorbeeld.nl\n\n{recipients}\n\n"
        "--B\nContent-Type: text/rfc822-headers\n\n"
        f"Message-ID: {MESSAGE_ID}\nTo: lezer1@voorbeeld.nl\n\n--B--\n"
    ).encode()


def block(address: str, status: str, diagnostic: str = "", action: str = "failed") -> str:
    lines = [f"Final-Recipient: rfc822; {address}", f"Action: {action}", f"Status: {status}"]
    if diagnostic:
        lines.append(f"Diagnostic-Code: smtp; {diagnostic}")
    return "\n".join(lines)


def test_a_multi_recipient_report_gives_one_verdict_per_recipient() -> None:
    verdicts = classify(
        dsn(
            block("lezer1@voorbeeld.nl", "5.1.1", "550 5.1.1 User unknown"),
            block("lezer2@voorbeeld.nl", "5.0.0", "552 5.2.2 Mailbox full"),
            block("lezer3@elders.example", "5.7.1", "554 5.7.1 blocked using zen.spamhaus.org"),
            block("lezer4@elders.example", "4.4.7", action="delayed"),
        )
    )
    found = {v.recipients: (v.kind, v.reason, v.status) for v in verdicts}
    assert found == {
        ("lezer1@voorbeeld.nl",): (Kind.HARD, "userunknown", "5.1.1"),
        ("lezer2@voorbeeld.nl",): (Kind.SOFT, "mailboxfull", "5.2.2"),
        ("lezer3@elders.example",): (Kind.SENDER, "blocked", "5.7.1"),
        ("lezer4@elders.example",): (Kind.IGNORED, "delayed", "4.4.7"),
    }
    assert all(v.message_ids == (MESSAGE_ID,) for v in verdicts)
    assert {v.reply_code for v in verdicts} == {550, 552, 554, None}


def test_without_a_diagnostic_the_human_part_next_to_the_address_decides() -> None:
    """Exim writes each failed address with its reason in the human part and only
    ``Status: 5.0.0`` in the report; the reason of the next address is not this one's."""
    human = (
        "The following address(es) failed:\n\n  lezer1@voorbeeld.nl\n"
        "    550 5.1.1 <lezer1@voorbeeld.nl>: Recipient address rejected: User unknown\n"
        "  lezer2@voorbeeld.nl\n    retry timeout exceeded\n"
    )
    verdicts = classify(
        dsn(
            block("lezer1@voorbeeld.nl", "5.0.0"),
            block("lezer2@voorbeeld.nl", "5.0.0"),
            human=human,
        )
    )
    assert [(v.kind, v.reason) for v in verdicts] == [
        (Kind.HARD, "userunknown"),
        (Kind.SOFT, "expired"),
    ]


@pytest.mark.parametrize(
    ("status", "diagnostic", "kind", "reason"),
    [
        ("5.0.0", "550 5.2.2 mailbox full", Kind.SOFT, "mailboxfull"),
        ("5.1.1", "550 5.7.26 Unauthenticated email is not accepted due to DMARC", Kind.SENDER,
         "authfailure"),
        ("5.1.1", "550 Client host rejected: listed on Spamhaus", Kind.SENDER, "blocked"),
        ("5.0.0", "550 5.1.1 Benutzer unbekannt", Kind.HARD, "userunknown"),
        ("4.0.0", "450 4.2.2 Quota dépassé", Kind.SOFT, "mailboxfull"),
        ("5.0.0", "550 ongeldig e-mailadres", Kind.HARD, "userunknown"),
        ("5.0.0", "550 ユーザーが見つかりません", Kind.HARD, "userunknown"),
    ],
)  # fmt: skip
def test_status_and_diagnostic_that_contradict_each_other(
    status: str, diagnostic: str, kind: Kind, reason: str
) -> None:
    (verdict,) = classify(dsn(block("lezer1@voorbeeld.nl", status, diagnostic)))
    assert (verdict.kind, verdict.reason) == (kind, reason)


@pytest.mark.parametrize(
    ("action", "reason"),
    [("delayed", "delayed"), ("delivered", "delivered"), ("relayed", "delivered")],
)
def test_notices_that_only_say_delayed_or_delivered_change_nobody(action: str, reason: str) -> None:
    (verdict,) = classify(dsn(block("lezer1@voorbeeld.nl", "4.4.7", action=action)))
    assert (verdict.kind, verdict.reason) == (Kind.IGNORED, reason)
    assert not is_report(dsn(block("lezer1@voorbeeld.nl", "4.4.7", action=action)))


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


QUOTED = (
    f"> From: Gerrit <nieuwsbrief@gerritvanderheide.com>\n> To: lezer1@voorbeeld.nl\n"
    f"> Message-ID: {MESSAGE_ID}\n> List-Id: <nieuwsbrief.gerritvanderheide.com>\n>\n> Hallo,\n"
)


def mail(
    subject: str, body: str, headers: str = "", sender: str = "Piet <piet@elders.example>"
) -> bytes:
    return (
        f"From: {sender}\nTo: nieuwsbrief@gerritvanderheide.com\nSubject: {subject}\n"
        f"{headers}Content-Type: text/plain; charset=utf-8\n\n{body}"
    ).encode()


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


@pytest.mark.parametrize(
    ("subject", "body", "kind", "reason"),
    [
        ("Unzustellbar", "Die Nachricht an lezer1@voorbeeld.nl konnte nicht zugestellt werden.\n"
         "Grund: Postfach voll", Kind.SOFT, "mailboxfull"),
        ("Non remis", "Votre message pour lezer1@voorbeeld.nl n'a pas pu être remis :\n"
         "550 utilisateur inconnu", Kind.HARD, "userunknown"),
        ("Niet afgeleverd", "Uw bericht aan lezer1@voorbeeld.nl is niet afgeleverd.\n"
         "Reden: gebruiker onbekend", Kind.HARD, "userunknown"),
        ("Returned mail", "lezer1@voorbeeld.nl: the server said nothing we understand",
         Kind.SOFT, "undetermined"),
    ],
)  # fmt: skip
def test_bounces_without_a_report_part_in_several_languages(
    subject: str, body: str, kind: Kind, reason: str
) -> None:
    raw = mail(subject, body, sender="Mail Delivery System <MAILER-DAEMON@mx.voorbeeld.nl>")
    (verdict,) = classify(raw)
    assert (verdict.kind, verdict.reason, verdict.recipients) == (
        kind,
        reason,
        ("lezer1@voorbeeld.nl",),
    )


def test_a_bounce_forwarded_by_a_person_is_read_as_the_bounce() -> None:
    body = (
        "Jullie mail wordt tegengehouden, zie hieronder.\n\n-----Original Message-----\n"
        "From: MAILER-DAEMON@mx.voorbeeld.nl\nSubject: Undelivered Mail Returned to Sender\n\n"
        "<lezer1@voorbeeld.nl>: host mx.voorbeeld.nl said: 554 5.7.1 Service unavailable;\n"
        "    Client host [192.0.2.10] blocked using b.barracudacentral.org\n"
    )
    (verdict,) = classify(
        mail("FW: Undelivered Mail Returned to Sender", body, sender="IT <it@elders.example>")
    )
    assert (verdict.kind, verdict.reason, verdict.recipients) == (
        Kind.SENDER,
        "blocked",
        ("lezer1@voorbeeld.nl",),
    )


def test_a_diagnostic_without_its_type_keeps_all_its_words() -> None:
    """RFC 3464 writes ``smtp;`` first; Exchange's own text has a ``;`` of its own."""
    raw = dsn(
        "Final-Recipient: rfc822; lezer1@voorbeeld.nl\nAction: failed\nStatus: 5.0.0\n"
        "Diagnostic-Code: 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found"
    )
    (verdict,) = classify(raw)
    assert (verdict.kind, verdict.reason, verdict.status) == (Kind.HARD, "userunknown", "5.1.10")
    assert "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient" in verdict.diagnostic


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
