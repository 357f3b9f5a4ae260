"""The bytes handed to SMTP: headers, structure, encoding, and no header injection."""

from __future__ import annotations

import email
import email.header
import email.policy
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage

import pytest

from newsletter.config import Settings
from newsletter.errors import RenderError
from newsletter.mail.message import build_message
from newsletter.mail.render import (
    Recipient,
    RenderedEdition,
    personalise,
    render_edition,
)
from tests.support.posts import rich_post
from tests.support.readers import recipient_of
from tests.support.settings import make_settings

NOW = datetime(2025, 11, 24, 7, 0, tzinfo=timezone(timedelta(hours=1)))


@pytest.fixture(scope="module")
def edition() -> RenderedEdition:
    return render_edition(rich_post(), make_settings().newsletter)


def recipient(
    settings: Settings, name: str | None = "Zoë de Vries", subscriber_id: int = 42
) -> Recipient:
    return recipient_of(
        settings, subscriber_id, "zoe@example.nl", name, post_slug="innerlijke-rust"
    )


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def raw_headers(raw: bytes) -> list[tuple[str, str]]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    unfolded = re.sub(r"\r\n(?=[ \t])", "", head)
    return [
        (name, value.strip())
        for name, _, value in (line.partition(":") for line in unfolded.split("\r\n"))
    ]


def test_message_parses_back_with_all_headers(edition: RenderedEdition, settings: Settings) -> None:
    raw = build_message(edition, recipient(settings), settings.newsletter, now=NOW)
    message = parse(raw)
    assert str(message["From"]) == "Gerrit <nieuwsbrief@gerritvanderheide.com>"
    assert message["To"].addresses[0].display_name == "Zoë de Vries"
    assert message["To"].addresses[0].addr_spec == "zoe@example.nl"
    assert str(message["Subject"]) == edition.subject
    assert str(message["Date"]) == "Mon, 24 Nov 2025 07:00:00 +0100"
    assert message["MIME-Version"] == "1.0"
    assert str(message["List-Id"]) == '"Nieuwsbrief van Gerrit" <nieuwsbrief.gerritvanderheide.com>'
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<[^@<>\s]+@gerritvanderheide\.com>", str(message["Message-ID"]))
    assert "Reply-To" not in message and "Precedence" not in message
    assert not [d for part in message.walk() for d in part.defects]


def test_list_unsubscribe_is_one_unencoded_line(
    edition: RenderedEdition, settings: Settings
) -> None:
    person = recipient(settings)
    raw = build_message(edition, person, settings.newsletter, now=NOW)
    assert raw.count(b"List-Unsubscribe: <https://") == 1
    line = next(ln for ln in raw.split(b"\r\n") if ln.startswith(b"List-Unsubscribe:"))
    token = person.unsubscribe_url.rsplit("/", 1)[1]
    assert line.decode("ascii") == (
        f"List-Unsubscribe: <{person.unsubscribe_url}>, "
        f"<mailto:nieuwsbrief@gerritvanderheide.com?subject=unsubscribe-{token}>"
    )
    assert b"=?" not in line


def test_both_parts_decode_to_the_personalised_content(
    edition: RenderedEdition, settings: Settings
) -> None:
    person = recipient(settings)
    html, text = personalise(edition, person)
    message = parse(build_message(edition, person, settings.newsletter, now=NOW))
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    for part, expected in zip(parts, (text, html), strict=True):
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
        assert part.get_content().replace("\r\n", "\n") == expected
    assert person.unsubscribe_url in parts[0].get_content()
    assert f'href="{person.unsubscribe_url}"' in parts[1].get_content()


def test_wire_format_is_crlf_with_short_quoted_printable_lines(
    edition: RenderedEdition, settings: Settings
) -> None:
    raw = build_message(edition, recipient(settings), settings.newsletter, now=NOW)
    assert raw.count(b"\n") == raw.count(b"\r\n")
    body = raw.split(b"\r\n\r\n", 1)[1]
    assert max(len(line) for line in body.split(b"\r\n")) <= 78
    assert raw.isascii()


def test_reply_to_and_subject_prefix(edition: RenderedEdition) -> None:
    settings = make_settings(newsletter={"reply_to": "gerrit@gerritvanderheide.com"})
    raw = build_message(
        edition, recipient(settings), settings.newsletter, now=NOW, subject_prefix="[TEST] "
    )
    message = parse(raw)
    assert str(message["Reply-To"]) == "gerrit@gerritvanderheide.com"
    assert str(message["Subject"]) == "[TEST] " + edition.subject


def test_a_given_message_id_is_used(edition: RenderedEdition, settings: Settings) -> None:
    raw = build_message(
        edition,
        recipient(settings),
        settings.newsletter,
        now=NOW,
        message_id="<edition-3.sub-42@gerritvanderheide.com>",
    )
    assert parse(raw)["Message-ID"] == "<edition-3.sub-42@gerritvanderheide.com>"


def test_a_crlf_in_a_name_never_makes_a_header(
    edition: RenderedEdition, settings: Settings
) -> None:
    hostile = "Zoë\r\nBcc: victim@example.com\r\nX-Evil: 1"
    raw = build_message(edition, recipient(settings, hostile), settings.newsletter, now=NOW)
    names = [name.lower() for name, _ in raw_headers(raw)]
    assert "bcc" not in names and "x-evil" not in names
    assert names.count("to") == 1
    message = parse(raw)
    assert message["To"].addresses[0].display_name == "Zoë Bcc: victim@example.com X-Evil: 1"
    assert message["To"].addresses[0].addr_spec == "zoe@example.nl"


def test_a_crlf_in_an_address_is_refused(edition: RenderedEdition, settings: Settings) -> None:
    person = replace(recipient(settings), email="zoe@example.nl\r\nBcc: victim@example.com")
    with pytest.raises(RenderError, match="recipient address"):
        build_message(edition, person, settings.newsletter, now=NOW)


def test_a_naive_date_is_refused(edition: RenderedEdition, settings: Settings) -> None:
    with pytest.raises(RenderError, match="time zone"):
        build_message(
            edition, recipient(settings), settings.newsletter, now=datetime(2025, 11, 24, 7, 0)
        )


def test_non_ascii_list_name(edition: RenderedEdition) -> None:
    settings = make_settings(newsletter={"name": 'Gerrits "Stille" Brief — rust'})
    message = parse(
        build_message(edition, recipient(settings), settings.newsletter, now=datetime.now(UTC))
    )
    assert (
        str(message["List-Id"])
        == 'Gerrits "Stille" Brief — rust <nieuwsbrief.gerritvanderheide.com>'
    )


@pytest.mark.parametrize(
    "name", ["Zoë's brief: week (1), <geen@adres>", "Nieuwsbrief van Gerrit", 'Een "brief"']
)
def test_list_id_keeps_the_list_id_outside_the_phrase(edition: RenderedEdition, name: str) -> None:
    """RFC 2919: whatever the name holds, the id is the last <...> and the phrase decodes
    to the name (a non-ASCII name is encoded as a whole, so its ":" or "(" stay inside)."""
    settings = make_settings(newsletter={"name": name})
    raw = build_message(edition, recipient(settings), settings.newsletter, now=NOW)
    (value,) = [v for n, v in raw_headers(raw) if n == "List-Id"]
    phrase, _, list_id = value.rpartition(" ")
    assert list_id == "<nieuwsbrief.gerritvanderheide.com>"
    if name.isascii():
        assert phrase == '"' + name.replace('"', '\\"') + '"'
    else:
        assert re.fullmatch(r"(?:=\?utf-8\?[bq]\?[^?\s]*\?=\s*)+", phrase, re.IGNORECASE)
        assert str(email.header.make_header(email.header.decode_header(phrase))) == name


def test_feedback_id_names_the_edition_the_newsletter_and_the_sender(
    edition: RenderedEdition, settings: Settings
) -> None:
    """Gmail's form a:b:c:SenderId, so Postmaster Tools shows complaints per edition."""
    raw = build_message(edition, recipient(settings), settings.newsletter, now=NOW)
    (value,) = [v for n, v in raw_headers(raw) if n == "Feedback-ID"]
    assert value == "innerlijke-rust:nieuwsbrief.gerritvanderheide.com:edition:gerritvanderhei"
    custom = make_settings(newsletter={"feedback_sender_id": "gerrit-nb"})
    raw = build_message(edition, recipient(custom), custom.newsletter, now=NOW)
    assert parse(raw)["Feedback-ID"].endswith(":edition:gerrit-nb")


def test_feedback_id_fields_never_hold_a_colon(settings: Settings) -> None:
    odd = replace(render_edition(rich_post(), settings.newsletter), post_slug="een:twee drie")
    raw = build_message(odd, recipient(settings), settings.newsletter, now=NOW)
    assert parse(raw)["Feedback-ID"].split(":")[0] == "een-twee-drie"
