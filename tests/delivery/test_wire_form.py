"""A spliced message leaves in DATA form made from pieces stuffed once per edition: it
must be byte for byte what dot-stuffing the whole message gives, for any reader."""

from __future__ import annotations

from email import message_from_bytes

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from newsletter.db.database import Database
from newsletter.delivery import send_edition
from newsletter.mail.compose import DotStuffed, dot_stuff
from tests.mail.test_compose import NOW, _composer
from tests.support.db import new_edition
from tests.support.settings import make_settings, relay
from tests.support.smtp import SmtpServer

COMPOSER = _composer()
# Dots where a line could start: after a space, and at every place a soft break may fall.
DOTTED_NAMES = st.text(alphabet="abc .é", min_size=0, max_size=120).map(str.strip)


@hypothesis_settings(max_examples=200, deadline=None)
@given(name=DOTTED_NAMES, subscriber_id=st.integers(min_value=1, max_value=10**9))
def test_the_wire_form_is_the_message_dot_stuffed(name: str, subscriber_id: int):
    recipient = COMPOSER.recipient(subscriber_id, f"lezer{subscriber_id}@voorbeeld.nl", name)
    wire = COMPOSER.compose(recipient, subscriber_id, now=NOW, for_smtp=True)
    plain = COMPOSER.compose(recipient, subscriber_id, now=NOW)
    assert isinstance(wire, DotStuffed) and not isinstance(plain, DotStuffed)
    assert wire == dot_stuff(plain)


def test_a_relay_receives_the_lines_that_start_with_a_dot_intact(
    database: Database, smtp_server: SmtpServer
):
    edition_id, addresses = new_edition(database, 3)
    summary = send_edition(database, make_settings(smtp=relay(smtp_server.port)), edition_id)
    assert summary.sent == 3 and set(smtp_server.handler.per_address()) == set(addresses)
    for address, raw in smtp_server.handler.messages:
        text = message_from_bytes(raw).get_payload()[0].get_payload(decode=True).decode()
        assert "\n.Een regel die met een punt begint" in text, address
