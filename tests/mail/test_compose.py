"""The spliced message: identical to build_message's, valid headers, DKIM that verifies."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime

import dkim
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from newsletter.config import Secret, Settings
from newsletter.delivery.message_ids import message_ids
from newsletter.mail.compose import Composer, dot_stuff, without_boundary
from newsletter.mail.dkim import dkim_signer
from newsletter.mail.render import render_edition
from tests.support.fixtures import DkimKey
from tests.support.headers import bulk_sender_problems
from tests.support.posts import make_post
from tests.support.settings import make_settings

NOW = datetime(2026, 11, 30, 7, 0, 12, tzinfo=UTC)
NAMES = [
    None,
    "Piet",
    "Anne-Marie de Vries",
    "José Müller",
    "Jansen, Piet",
    'Kees "de Kat" Smit',
    "=?utf-8?q?nep?=",
    "Zoë van der Tëst " * 12,
    "李小龙",
    "O'Brien",
]


def _composer(settings: Settings | None = None) -> Composer:
    settings = settings or make_settings()
    edition = render_edition(make_post(), settings.newsletter)
    return Composer(
        edition,
        settings.newsletter,
        message_ids(settings).of_edition(7),
        secret=settings.signing_key(),
        signer=dkim_signer(settings.dkim, settings.dkim_private_key),
    )


@pytest.fixture(scope="module")
def composer() -> Composer:
    return _composer()


def _spliced_and_built(composer: Composer, name: str | None, address: str) -> tuple[bytes, bytes]:
    recipient = composer.recipient(42, address, name)
    spliced = composer.compose(recipient, 42, now=NOW)
    built = composer.build(recipient, now=NOW, message_id=composer.message_ids.for_subscriber(42))
    return spliced, built


def test_the_edition_is_spliced(composer: Composer):
    assert composer.spliced


@pytest.mark.parametrize("name", NAMES)
def test_spliced_equals_built(composer: Composer, name: str | None):
    spliced, built = _spliced_and_built(composer, name, "lezer@voorbeeld.nl")
    assert without_boundary(spliced) == without_boundary(built)
    ours, theirs = (
        email.message_from_bytes(m, policy=email.policy.default) for m in (spliced, built)
    )
    for header in ("To", "Subject", "List-Unsubscribe", "Message-ID", "Date"):
        assert ours[header] == theirs[header]
    for part_ours, part_theirs in zip(ours.iter_parts(), theirs.iter_parts(), strict=True):
        assert part_ours.get_content() == part_theirs.get_content()


@hypothesis_settings(max_examples=60, deadline=None)
@given(name=st.one_of(st.none(), st.text(min_size=1, max_size=80)))
def test_spliced_equals_built_for_any_name(name: str | None):
    composer = _CACHED.setdefault("composer", _composer())
    spliced, built = _spliced_and_built(composer, name, "lezer@voorbeeld.nl")
    assert without_boundary(spliced) == without_boundary(built)


_CACHED: dict[str, Composer] = {}


def test_headers_of_a_spliced_message(composer: Composer):
    spliced, _ = _spliced_and_built(composer, "José Müller", "jose@voorbeeld.nl")
    head = spliced.split(b"\r\n\r\n", 1)[0].decode("ascii")
    unsubscribe = re.search(r"^List-Unsubscribe: (.*)$", head, re.MULTILINE)
    assert unsubscribe and "=?" not in unsubscribe.group(1)
    assert unsubscribe.group(1).startswith(
        "<https://nieuwsbrief.gerritvanderheide.com/unsubscribe/"
    )
    assert "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in head
    found = re.search(r"\r\nMessage-ID: (<7\.42\.[a-z2-7]{13}@gerritvanderheide\.com>)\r\n", head)
    assert found and message_ids(make_settings()).read(found[1]) == (7, 42)
    assert "\r\nDate: Mon, 30 Nov 2026 07:00:12 +0000\r\n" in head
    message = email.message_from_bytes(spliced, policy=email.policy.default)
    assert message["To"].addresses[0].display_name == "José Müller"
    assert message.get_content_type() == "multipart/alternative"
    for line in spliced.split(b"\r\n"):
        assert len(line) <= 998
    body = spliced.split(b"\r\n\r\n", 1)[1]
    assert max(len(line) for line in body.split(b"\r\n")) <= 78


def test_bulk_sender_header_checks_pass(composer: Composer):
    """The offline bulk-sender checks (RFC 5322/2045/2369/8058, Gmail and Yahoo rules)."""
    spliced, _ = _spliced_and_built(composer, "Piet", "piet@voorbeeld.nl")
    assert bulk_sender_problems(spliced) == []


def test_the_header_checks_catch_what_they_look_for(composer: Composer):
    """The checks above are not vacuous: spoil one header at a time and each is caught."""
    spliced, _ = _spliced_and_built(composer, "Piet", "piet@voorbeeld.nl")
    spoiled = {
        "Date with a time zone": spliced.replace(b"\r\nDate: ", b"\r\nX-Date: ", 1),
        "List-Unsubscribe-Post one-click": spliced.replace(b"=One-Click", b"=Yes", 1),
        "List-Unsubscribe unencoded": spliced.replace(
            b"List-Unsubscribe: <", b"List-Unsubscribe: =?utf-8?q?=3C?= <", 1
        ),
        "no bare LF among CRLF": spliced.replace(b"\r\nSubject:", b"\nSubject:", 1),
        "List-Id well formed": spliced.replace(b"<nieuwsbrief.gerritvanderheide.com>", b"<lijst>"),
        "Feedback-ID well formed": re.sub(rb"(Feedback-ID: \S+:)\S+", rb"\1nb", spliced),
    }
    for problem, message in spoiled.items():
        assert problem in bulk_sender_problems(message), problem


def test_dot_stuffing_doubles_leading_dots_only():
    assert dot_stuff(b".a\r\nb\r\n..c\r\n") == b"..a\r\nb\r\n...c\r\n.\r\n"
    assert dot_stuff(b"a") == b"a\r\n.\r\n"


def test_dkim_signature_verifies(dkim_key: DkimKey):
    signed_settings = make_settings(
        dkim={"domain": "gerritvanderheide.com", "selector": "nb2026"},
        dkim_private_key=Secret(dkim_key.private_pem),
    )
    composer = _composer(signed_settings)
    message = composer.compose(composer.recipient(3, "piet@voorbeeld.nl", "Piet"), 3, now=NOW)
    assert message.startswith(b"DKIM-Signature:")

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"nb2026._domainkey.gerritvanderheide.com."
        return dkim_key.record

    assert dkim.verify(message, dnsfunc=dns)
    signed = (
        email.message_from_bytes(message)["DKIM-Signature"].replace("\r\n", "").replace(" ", "")
    )
    covered = re.search(r"h=([^;]+)", signed).group(1).lower().split(":")  # type: ignore[union-attr]
    for header in (
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "list-id",
        "feedback-id",
    ):
        assert header in covered
    assert bulk_sender_problems(message) == []
    tampered = message.replace(b"Subject: ", b"Subject: Re: ", 1)
    assert not dkim.verify(tampered, dnsfunc=dns)
