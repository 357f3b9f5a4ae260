"""The words servers refuse with (``delivery.wordings``): each table names only reasons of
its own kind, and the order within a table decides where two wordings meet."""

from __future__ import annotations

import pytest

from newsletter.delivery import wordings
from tests.support.wild import REASONS

TABLES = {
    "sender": (wordings.SENDER_NAMED, wordings.SENDER_VAGUE),
    "soft": (wordings.SOFT_NAMED, wordings.SOFT_VAGUE),
    "hard": (wordings.HARD_NAMED,),
}


def first(rules: wordings.Wordings, text: str) -> str | None:
    return next((reason for reason, pattern in rules if pattern.search(text)), None)


@pytest.mark.parametrize("kind", sorted(TABLES))
def test_each_table_names_only_reasons_of_its_kind(kind: str) -> None:
    for table in TABLES[kind]:
        assert table, kind
        assert {reason for reason, _ in table} <= REASONS[kind], kind


@pytest.mark.parametrize(
    ("rules", "text", "reason"),
    [
        # a blocklist before spam: Spamhaus names a list, not our message's content
        (wordings.SENDER_NAMED, "554 5.7.1 Service unavailable; listed at zen.spamhaus.org", "blocked"),
        (wordings.SENDER_NAMED, "550 5.7.26 Unauthenticated email: DMARC policy", "authfailure"),
        (wordings.SENDER_NAMED, "550 Reverse DNS (PTR) lookup failed for 192.0.2.1", "reversedns"),
        (wordings.SOFT_NAMED, "552 Mailbox full", "mailboxfull"),
        (wordings.SOFT_NAMED, "Postfach voll", "mailboxfull"),
        (wordings.HARD_NAMED, "550 User unknown in virtual mailbox table", "userunknown"),
        (wordings.HARD_NAMED, "Benutzer unbekannt", "userunknown"),
        (wordings.HARD_NAMED, "Host or domain name not found", "hostunknown"),
    ],
)  # fmt: skip
def test_the_first_wording_that_matches_names_the_reason(
    rules: wordings.Wordings, text: str, reason: str
) -> None:
    assert first(rules, text) == reason


def test_a_blocked_account_is_the_reader_suspended_not_us_blocked() -> None:
    assert wordings.SUSPENDED.search("550 account has been blocked")
    assert wordings.SUSPENDED.search("Das Konto ist gesperrt")
    assert not wordings.SUSPENDED.search("550 5.7.1 our IP is blocked")
    assert wordings.EXPIRED.search("retry timeout exceeded")
