"""RFC 3464 delivery status notifications (``returns.dsn``): one verdict per recipient,
the more specific code deciding, the human part next to the address when the report
names no cause, notices that only say delayed or delivered."""

from __future__ import annotations

import pytest

from newsletter.returns.parse import Kind, classify, is_report
from tests.support.reports import MESSAGE_ID, block, corpus, dsn, only_verdict


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


def test_a_diagnostic_without_its_type_keeps_all_its_words() -> None:
    """RFC 3464 writes ``smtp;`` first; Exchange's own text has a ``;`` of its own."""
    raw = dsn(
        "Final-Recipient: rfc822; lezer1@voorbeeld.nl\nAction: failed\nStatus: 5.0.0\n"
        "Diagnostic-Code: 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found"
    )
    (verdict,) = classify(raw)
    assert (verdict.kind, verdict.reason, verdict.status) == (Kind.HARD, "userunknown", "5.1.10")
    assert "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient" in verdict.diagnostic
