"""Bounces that follow no standard (``returns.nonstandard``): in several languages,
without a report part, forwarded by a person."""

from __future__ import annotations

import pytest

from newsletter.returns.parse import Kind, classify
from tests.support.reports import mail


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
