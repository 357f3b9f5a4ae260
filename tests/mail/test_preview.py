"""One reader's message of a rendered edition: the sample reader's links lead nowhere, a
named reader's are their own, and the parts shown are the ones the message carries."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from newsletter.config import Settings
from newsletter.mail.preview import SAMPLE_READER, preview_of
from newsletter.mail.render import RenderedEdition, render_edition
from newsletter.mail.tokens import read_token
from tests.support.posts import rich_post
from tests.support.settings import make_settings

NOW = datetime(2025, 11, 24, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def edition() -> RenderedEdition:
    return render_edition(rich_post(), make_settings().newsletter)


def _parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_without_a_reader_the_sample_reader_gets_links_for_nobody(
    edition: RenderedEdition, settings: Settings
) -> None:
    secret = settings.signing_key()
    preview = preview_of(settings.newsletter, secret, edition, now=NOW)
    address, name = SAMPLE_READER
    assert (preview.recipient.email, preview.recipient.name) == (address, name)
    token = preview.recipient.unsubscribe_url.rsplit("/", 1)[-1]
    assert read_token(secret, "unsubscribe", token) == 0
    message = _parsed(preview.message)
    assert message["To"].addresses[0].addr_spec == address
    assert message["Date"].datetime == NOW


def test_a_named_reader_gets_their_own_copy_and_the_parts_it_carries(
    edition: RenderedEdition, settings: Settings
) -> None:
    secret = settings.signing_key()
    preview = preview_of(settings.newsletter, secret, edition, (42, "zoe@example.nl", "Zoë"))
    token = preview.recipient.unsubscribe_url.rsplit("/", 1)[-1]
    assert read_token(secret, "unsubscribe", token) == 42
    message = _parsed(preview.message)
    assert message["To"].addresses[0].display_name == "Zoë"
    html_part, text_part = preview.parts()
    assert "Hoi Zoë," in text_part
    plain = message.get_body(("plain",))
    assert plain is not None
    assert plain.get_content().replace("\r\n", "\n").rstrip() == text_part.rstrip()
    assert preview.recipient.unsubscribe_url in html_part
