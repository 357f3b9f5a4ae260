"""An edition's returns as ``editions show`` counts them: hard only for addresses that do
not exist, not for readers the soft-bounce rule marked."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from sqlalchemy import update

from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.db.models import Delivery, utcnow
from newsletter.delivery import editions
from newsletter.delivery.engine import send_edition
from tests.support.cli import NewsletterCli
from tests.support.db import add_subscribers
from tests.support.posts import add_post, make_post
from tests.support.returned import (
    bounce_env,
    bounce_settings,
    status_of,
)
from tests.support.smtp import Faults, SmtpServer


def test_editions_show_counts_hard_only_for_addresses_that_do_not_exist(
    database: Database, database_url: str, smtp_server: SmtpServer, faults: Faults, tmp_path: Path
) -> None:
    """One reader refused for good (550 5.1.1), one bounced by the ledger's soft-bounce rule
    (451 on every retry): both are ``bounced``, one is a hard bounce."""
    add_subscribers(database, 5)
    faults.rcpt_replies["lezer1@voorbeeld.nl"] = "550 5.1.1 <unknown>: Recipient address rejected"
    faults.rcpt_script["lezer2@voorbeeld.nl"] = ["451 4.3.0 Temporary local problem"] * 8
    settings = dataclasses.replace(
        bounce_settings(database_url, smtp_server.port),
        smtp=dataclasses.replace(
            bounce_settings(database_url, smtp_server.port).smtp,
            retry_first_minutes=0.001,
            retry_max_hours=0.0001,
        ),
    )
    add_post(database, make_post("rust"))
    with database.session() as session:
        row = post_queue.get(session, "rust")
        assert row is not None
        edition_id = editions.create_edition(session, row, row.title)
    for _ in range(8):
        if send_edition(database, settings, edition_id).status == "sent":
            break
        with database.session() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.edition_id == edition_id, Delivery.status == "deferred")
                .values(next_attempt_at=utcnow())
            )
    else:
        raise AssertionError("the edition did not finish")
    assert status_of(database, "lezer1@voorbeeld.nl") == "bounced"
    assert status_of(database, "lezer2@voorbeeld.nl") == "bounced"

    cli = NewsletterCli(database_url, tmp_path)
    numbers = json.loads(
        cli.ok("editions", "show", str(edition_id), "--json", **bounce_env(smtp_server.port))
    )
    assert numbers["bounces"]["hard"] == 1
