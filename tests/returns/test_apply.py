"""What a late report does to a reader: soft bounces are counted over editions, and the
same edition's second soft report does not count twice."""

from __future__ import annotations

from newsletter.db.database import Database
from newsletter.returns.apply import process_message
from tests.support.db import add_subscribers
from tests.support.returned import (
    bounce_settings,
    returned,
    send_next,
    status_of,
)
from tests.support.smtp import SmtpServer


def test_soft_bounces_in_three_of_the_last_five_editions_make_a_reader_bounced(
    database: Database, database_url: str, smtp_server: SmtpServer
) -> None:
    settings = bounce_settings(database_url, smtp_server.port)
    add_subscribers(database, 3)
    reader = "lezer1@voorbeeld.nl"
    for number in range(3):
        edition_id = send_next(database, settings, f"week-{number}")
        raw = returned(smtp_server, database, edition_id, reader, "postfix_mailbox_full.eml")
        assert process_message(database, settings, raw, source="test").result == "soft"
        # a second soft report for the same edition does not count twice
        other = returned(smtp_server, database, edition_id, reader, "microsoft_mailbox_full.eml")
        process_message(database, settings, other, source="test")
        assert status_of(database, reader) == ("bounced" if number == 2 else "active"), number
