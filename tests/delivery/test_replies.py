"""The one classifier of a reply (issue 22): reply code, enhanced status and the server's
words become a kind and a reason, by cause. Table-driven on the wordings of the main mail
systems in English, German, French, Dutch and Japanese; pure."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.delivery.replies import Kind, classify_reply, status_codes
from tests.support.wild import REASONS

HARD, SOFT, SENDER = Kind.HARD, Kind.SOFT, Kind.SENDER

# (reply code or None, the server's words, the DSN's Status or None, kind, reason)
CASES = [
    # hard: the address is gone
    (550, "5.1.1 <a@voorbeeld.nl>: Recipient address rejected: User unknown in virtual "
          "mailbox table", None, HARD, "userunknown"),  # Postfix
    (550, "5.1.1 The email account that you tried to reach does not exist.", None, HARD,
     "userunknown"),  # Gmail
    (550, "5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
     None, HARD, "userunknown"),  # Exchange Online
    (550, "5.4.1 Recipient address rejected: Access denied. AS(201806281)", None, HARD,
     "userunknown"),  # Exchange Online directory-based edge blocking
    (554, "delivery error: dd This user doesn't have a yahoo.com account (a@yahoo.com) [0]",
     None, HARD, "userunknown"),  # Yahoo
    (550, "Requested action not taken: mailbox unavailable", None, HARD, "userunknown"),  # GMX
    (None, "Sorry, no mailbox here by that name. (#5.1.1)", None, HARD, "userunknown"),  # qmail
    (550, "Unrouteable address", None, HARD, "hostunknown"),  # Exim
    (None, "Host or domain name not found. Name service error for name=voorbeeld.nl type=A: "
           "Host not found", "5.4.4", HARD, "hostunknown"),  # Postfix
    (556, "5.1.10 Recipient address has null MX", None, HARD, "hostunknown"),  # RFC 7505
    (551, "5.1.6 User has moved; please try <b@elders.example>", None, HARD, "hasmoved"),
    (550, "Benutzer unbekannt / user unknown", None, HARD, "userunknown"),  # German
    (550, "Die E-Mail-Adresse existiert nicht", None, HARD, "userunknown"),
    (550, "Utilisateur inconnu", None, HARD, "userunknown"),  # French
    (550, "Adresse d au moins un destinataire invalide. Invalid recipient. OFR_416", None, HARD,
     "userunknown"),  # Orange
    (550, "Onbekende gebruiker", None, HARD, "userunknown"),  # Dutch
    (550, "Het e-mailadres bestaat niet", None, HARD, "userunknown"),
    (550, "domein bestaat niet", None, HARD, "hostunknown"),
    (550, "宛先のメールアドレスが存在しません", None, HARD, "userunknown"),  # Japanese
    (550, "Unknown user", None, HARD, "userunknown"),  # docomo, au
    # soft: the reader's side, for now
    (552, "5.2.2 The email account that you tried to reach is over quota.", None, SOFT,
     "mailboxfull"),  # Gmail
    (None, "smtp; 552 5.2.2 Mailbox full", "5.0.0", SOFT, "mailboxfull"),  # generic Status
    (550, "Postfach voll", None, SOFT, "mailboxfull"),
    (550, "boîte aux lettres pleine", None, SOFT, "mailboxfull"),
    (550, "mailbox is vol", None, SOFT, "mailboxfull"),
    (550, "メールボックスの容量がいっぱいです", None, SOFT, "mailboxfull"),
    (552, "5.3.4 Message size exceeds fixed limit", None, SOFT, "toobig"),
    (552, "Nachricht zu groß", None, SOFT, "toobig"),
    (550, "5.2.1 The email account that you tried to reach is disabled.", None, SOFT,
     "suspended"),  # Gmail
    (554, "delivery error: dd Sorry your message to a cannot be delivered. This mailbox is "
          "disabled (554.30)", None, SOFT, "suspended"),  # Yahoo
    (None, "retry timeout exceeded", None, SOFT, "expired"),  # Exim
    (None, "delivery time expired", "4.4.7", SOFT, "expired"),
    (None, "Sorry, I wasn't able to establish an SMTP connection. (#4.4.1) I'm not going to "
           "try again; this message has been in the queue too long.", None, SOFT, "expired"),
    (451, "4.3.0 Temporary server error. Please try again later", None, SOFT, "systemerror"),
    (451, "4.7.1 Greylisted, please try again later", None, SOFT, "systemerror"),
    (421, "4.4.2 Connection timed out", None, SOFT, "networkerror"),
    (550, "5.0.0 Sorry", None, SOFT, "undetermined"),  # a cause nobody can tell: never hard
    (550, "Message rejected", None, SOFT, "undetermined"),
    (554, "", None, SOFT, "undetermined"),
    (450, "4.1.1 <a@voorbeeld.nl>: Recipient address rejected: User unknown", None, SOFT,
     "undetermined"),  # a temporary reply is never hard
    # sender: our side
    (554, "5.7.1 Service unavailable; Client host [192.0.2.10] blocked using zen.spamhaus.org",
     None, SENDER, "blocked"),  # Postfix with Spamhaus
    (550, "5.7.606 Access denied, banned sending IP [192.0.2.10]", None, SENDER, "blocked"),
    (550, "SC-001 Mail rejected by Outlook.com for policy reasons. Reasons for rejection may "
          "be related to content with spam-like characteristics or IP/domain reputation",
     None, SENDER, "blocked"),  # Outlook.com
    (553, "5.7.2 [TSS09] All messages from 192.0.2.10 will be permanently deferred", None,
     SENDER, "blocked"),  # Yahoo
    (554, "5.7.1 Message refusé : votre IP est listée sur une liste noire", None, SENDER,
     "blocked"),  # French
    (550, "5.7.26 Unauthenticated email from gerritvanderheide.com is not accepted due to "
          "domain's DMARC policy", None, SENDER, "authfailure"),  # Gmail
    (550, "5.7.23 SPF validation failed", None, SENDER, "authfailure"),
    (None, "550 Unauthenticated mail rejected: DMARC policy is reject", "5.1.1", SENDER,
     "authfailure"),  # the MTA's Status 5.1.1 over the server's own words
    (550, "5.7.25 The IP address sending this message does not have a PTR record setup",
     None, SENDER, "reversedns"),
    (450, "4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.10]", None,
     SENDER, "reversedns"),
    (550, "5.7.1 Our system has detected that this message is likely unsolicited mail.", None,
     SENDER, "spam"),
    (554, "5.7.1 Bericht geweigerd: spam gedetecteerd", None, SENDER, "spam"),  # Dutch
    (554, "5.7.0 Message rejected: virus found (Eicar-Test-Signature)", None, SENDER, "virus"),
    (552, "5.7.0 This message was blocked because its content presents a potential security "
          "issue.", None, SENDER, "virus"),  # Gmail
    (554, "5.6.0 Message content rejected", None, SENDER, "contentrejected"),
    (550, "5.7.1 <a@voorbeeld.nl>: Relay access denied", None, SENDER, "norelaying"),
    (550, "relaying denied", None, SENDER, "norelaying"),
    (421, "4.7.28 Our system has detected an unusual rate of unsolicited mail originating "
          "from your IP address.", None, SENDER, "ratelimited"),  # Gmail
    (421, "4.7.0 [TSS04] Messages from 192.0.2.10 temporarily deferred due to unexpected "
          "volume or user complaints", None, SENDER, "ratelimited"),  # Yahoo
    (451, "4.7.650 The mail server has been temporarily rate limited due to IP reputation.",
     None, SENDER, "ratelimited"),  # Outlook.com
    (421, "Zu viele Verbindungen von Ihrer IP", None, SENDER, "ratelimited"),
    (530, "5.7.0 Must issue a STARTTLS command first.", None, SENDER, "tlsrequired"),
    (550, "5.7.1 Message rejected by policy", None, SENDER, "policy"),
    (550, "Rejected by header based Anti-Spoofing policy", None, SENDER, "policy"),  # Mimecast
    (553, "5.1.8 Sender address rejected: Domain not found", None, SENDER, "policy"),
    (550, "受信拒否設定により拒否されました", None, SENDER, "policy"),  # a Japanese carrier
    # words that look like another cause than they are
    (554, "<unknown[192.0.2.10]>: Helo command rejected: Host not found", None, SENDER,
     "policy"),  # our greeting, not the reader's host
    (554, "Too many Received: headers", None, SOFT, "systemerror"),  # a loop, not a rate
    (None, "delivery temporarily suspended: connect to mx.voorbeeld.nl[192.0.2.25]:25: "
           "Connection refused", None, SOFT, "networkerror"),  # Postfix; not a policy
    (450, "4.2.1 The user you are trying to contact is receiving mail at a rate that "
          "prevents additional messages from being delivered.", None, SOFT, "systemerror"),
    (550, "5.7.511 Access denied, banned sender", None, SENDER, "blocked"),  # Exchange Online
    (451, "4.7.500 Server busy. Please try again later from [192.0.2.10]. (AS761)", None,
     SENDER, "ratelimited"),  # Exchange Online
    (550, "5.7.1 Content filter rejection", None, SENDER, "contentrejected"),
    (None, "This address no longer accepts mail.", None, HARD, "userunknown"),  # qmail
    (None, "DNS Error: Domain name not found", None, HARD, "hostunknown"),  # Gmail
    (None, "5.7.0 x-unix; maildrop: maildir over quota", None, SOFT, "mailboxfull"),
    (554, "5.4.4 SMTPSEND.DNS.NonExistentDomain; nonexistent domain", None, HARD,
     "hostunknown"),  # Exchange
    (550, "5.1.8 Access denied, bad outbound sender", None, SENDER, "policy"),  # Exchange
    (550, "5.4.300 Message expired", None, SOFT, "expired"),  # Exchange
    (554, "<a@voorbeeld.nl>: Recipient address rejected: Access denied", None, SENDER,
     "policy"),  # Postfix's recipient access table, no enhanced code
    (550, "5.4.1 [a@voorbeeld.nl]: Recipient address rejected: Access denied "
          "[CY1GCC01FT007.eop-gcc01.prod.protection.outlook.com]", None, HARD, "userunknown"),
    (550, "Account temporarily unavailable", None, SOFT, "systemerror"),
    (550, "ホストが見つかりません", None, HARD, "hostunknown"),
]  # fmt: skip


@pytest.mark.parametrize(("code", "text", "status", "kind", "reason"), CASES)
def test_each_cause_in_the_words_of_the_main_systems(
    code: int | None, text: str, status: str | None, kind: Kind, reason: str
) -> None:
    reply = classify_reply(code, text, status)
    assert (reply.kind, reply.reason) == (kind, reason)


def test_the_specific_code_decides_and_is_the_one_reported() -> None:
    """``Status: 5.0.0`` with 5.2.2 in the diagnostic: a full mailbox; the specific code
    and the reply code read from the diagnostic are what the verdict shows."""
    reply = classify_reply(None, "smtp; 550 5.2.2 <a@voorbeeld.nl>: mailbox full", "5.0.0")
    assert (reply.kind, reply.reason, reply.status, reply.reply_code) == (
        SOFT,
        "mailboxfull",
        "5.2.2",
        550,
    )


def test_a_real_user_unknown_stays_hard_whatever_the_text_adds() -> None:
    """The server's own 5.1.1 is the address gone, even when its text mentions spam."""
    reply = classify_reply(550, "5.1.1 User unknown (spam protection by Spamhaus)")
    assert (reply.kind, reply.reason) == (HARD, "userunknown")


def test_versions_and_addresses_are_no_status_codes() -> None:
    assert status_codes("Exim 4.94.2 at 192.5.1.1 said (#5.1.1) and 4.2.2.") == [
        "5.1.1",
        "4.2.2",
    ]


@settings(max_examples=300, deadline=None)
@given(
    code=st.one_of(st.none(), st.integers(min_value=200, max_value=599)),
    text=st.text(max_size=300),
    status=st.one_of(st.none(), st.from_regex(r"\A[245]\.[0-9]\.[0-9]{1,3}\Z")),
)
def test_any_reply_gets_a_verdict_of_the_vocabulary_and_a_temporary_one_is_never_hard(
    code: int | None, text: str, status: str | None
) -> None:
    reply = classify_reply(code, text, status)
    assert reply.reason in REASONS[reply.kind]
    temporary = (reply.status or "").startswith("4") or (
        not reply.status and reply.reply_code is not None and reply.reply_code < 500
    )
    assert not (temporary and reply.kind == HARD), (code, text, status)
