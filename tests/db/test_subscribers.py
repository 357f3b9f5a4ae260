"""db/subscribers on one database: one stored form per address, and a person's choice to
leave (or to be forgotten) holds against an admin or an import until they ask back."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email

from newsletter.db import subscribers
from newsletter.db.database import Database
from newsletter.errors import InputError
from tests.support.db import events_of


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("  Anna.de.Vries@Example.NL ", "anna.de.vries@example.nl"),
        ("jan@bücher.de", "jan@xn--bcher-kva.de"),
    ],
)
def test_an_address_is_stored_in_one_form(raw: str, stored: str) -> None:
    assert subscribers.normalise_address(raw) == stored


@pytest.mark.parametrize("raw", ["anna@", "zoë@example.nl", "anna@example.nl\nBcc: x@y.nl"])
def test_an_address_that_cannot_be_mailed_is_refused(raw: str) -> None:
    with pytest.raises(InputError, match="invalid e-mail address"):
        subscribers.normalise_address(raw)


# Plain addresses at the edges of email-validator's rules: the short path that skips it
# for a domain it already judged must give its answer, or its refusal, every time.
EDGE_ADDRESSES = [
    "Anna.de.Vries+nieuws@Example.NL",
    "POSTMASTER@example.nl",
    "a{b}|c~d'e@example.nl",
    ".anna@example.nl",
    "anna.@example.nl",
    "an..na@example.nl",
    "anna@@example.nl",
    "anna@localhost",
    "anna@example.test",
    "anna@example.local",
    "anna@example",
    "anna@-example.nl",
    "anna@example-.nl",
    "anna@example..nl",
    "anna@example.nl.",
    "anna@.example.nl",
    "anna@123.123.123.123",
    "anna@example.123",
    "anna@xn--zo-cja.nl",
    "anna@xn--bad-.nl",
    "anna@" + "a" * 63 + ".nl",
    "anna@" + "a" * 64 + ".nl",
    "x" * 65 + "@example.nl",
    "x" * 243 + "@example.nl",
    "x" * 244 + "@example.nl",
    "x" * 240 + "@xn--zo-cja.nl",
    "x" * 241 + "@xn--zo-cja.nl",
]


@pytest.mark.parametrize("raw", EDGE_ADDRESSES)
def test_a_plain_address_is_judged_as_email_validator_judges_it(raw: str) -> None:
    def verdict(address: str) -> str:
        try:
            result = validate_email(address, check_deliverability=False, allow_smtputf8=False)
        except EmailNotValidError as exc:
            return f"invalid e-mail address {address!r}: {exc}"
        return (result.ascii_email or result.normalized).lower()

    # Twice: the first call may fill the domain's verdict, the second uses it.
    for _ in range(2):
        try:
            ours = subscribers.normalise_address(raw)
        except InputError as exc:
            ours = str(exc)
        assert ours == verdict(raw)


def test_a_forgotten_address_comes_back_only_when_the_person_asked(database: Database) -> None:
    with database.session() as session:
        _, first = subscribers.add(session, "anna@example.nl", "Anna")
        forgotten = subscribers.remove(session, "Anna@example.nl", forget=True)
        assert (forgotten.email, forgotten.name, forgotten.status) == (None, None, "unsubscribed")
        with pytest.raises(InputError, match="removed and erased on request"):
            subscribers.add(session, "anna@example.nl")
        outcome, again = subscribers.add(session, "anna@example.nl", resubscribe=True)
    assert outcome == "resubscribed" and again.id != first.id
    assert events_of(database, first.id) == [
        ("subscribe", "admin"),
        ("unsubscribe", "admin"),
        ("forget", "admin"),
    ]
    with database.session() as session:
        # The hash was given up with the comeback: a second forget-and-add works the same.
        subscribers.remove(session, "anna@example.nl", forget=True)
        with pytest.raises(InputError, match="removed and erased on request"):
            subscribers.add(session, "anna@example.nl")


def test_an_unsubscribed_person_stays_out_of_an_admin_add(database: Database) -> None:
    with database.session() as session:
        _, record = subscribers.add(session, "jan@example.nl")
        row = subscribers.find(session, "jan@example.nl")
        assert row is not None
        assert subscribers.unsubscribe(session, row, "link")
        assert not subscribers.unsubscribe(session, row, "link")
        with pytest.raises(InputError, match="is unsubscribed"):
            subscribers.add(session, "jan@example.nl", "Jan")
        outcome, back = subscribers.add(session, "jan@example.nl", "Jan", resubscribe=True)
    assert (outcome, back.status, back.name, back.unsubscribe_source) == (
        "resubscribed",
        "active",
        "Jan",
        None,
    )
    assert events_of(database, record.id) == [
        ("subscribe", "admin"),
        ("unsubscribe", "link"),
        ("resubscribe", "admin"),
    ]
