"""The CLI door of sending: ``send``, ``editions`` and ``deliveries``."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from newsletter.cli import cli
from newsletter.db import post_queue
from newsletter.db.database import Database
from newsletter.db.models import Delivery, Edition, utcnow
from newsletter.delivery import editions
from tests.support.db import add_subscribers
from tests.support.posts import add_post
from tests.support.settings import SECRET, SENDER
from tests.support.smtp import SmtpServer


@pytest.fixture
def run(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Invoke ``newsletter`` with a config for this database; SMTP port set per test."""
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", SECRET)
    config = tmp_path / "newsletter.toml"

    def invoke(*args: str, smtp_port: int | None = None, input: str | None = None):
        smtp = (
            f'transport = "smtp"\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n'
            if smtp_port
            else f'transport = "maildir"\nmaildir = "{tmp_path / "outbox"}"\n'
        )
        config.write_text(
            f'[newsletter]\nfrom_address = "{SENDER}"\n'
            f'[database]\nurl = "{database_url}"\n[smtp]\n{smtp}',
            encoding="utf-8",
        )
        return CliRunner().invoke(cli, ["--config", str(config), *args], input=input)

    return invoke


def _rows(database: Database) -> tuple[int, int]:
    with database.session() as session:
        return (
            session.scalar(select(func.count()).select_from(Edition)) or 0,
            session.scalar(select(func.count()).select_from(Delivery)) or 0,
        )


def test_dry_run_and_test_copy_write_nothing(database, run, smtp_server: SmtpServer):
    add_subscribers(database, 3)
    slug = add_post(database)
    result = run("send", slug, "--dry-run", smtp_port=smtp_server.port)
    assert result.exit_code == 0, result.output
    assert "recipients: 3" in result.output and "bytes" in result.output
    result = run("send", "--next", "--to", "gerrit@voorbeeld.nl", smtp_port=smtp_server.port)
    assert result.exit_code == 0, result.output
    assert _rows(database) == (0, 0)
    ((address, raw),) = smtp_server.handler.messages
    assert address == "gerrit@voorbeeld.nl" and b"Subject: [TEST] Rust vinden" in raw


def test_confirmation_is_asked_and_no_means_no(database, run, smtp_server: SmtpServer):
    add_subscribers(database, 3)
    slug = add_post(database)
    result = run("send", slug, input="n\n", smtp_port=smtp_server.port)
    assert "Rust vinden in een drukke week" in result.output and "3 subscribers" in result.output
    assert result.exit_code != 0 and _rows(database) == (0, 0)
    result = run("send", slug, "--json", input="y\n", smtp_port=smtp_server.port)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{") :])
    assert summary["sent"] == 3 and summary["status"] == "sent"
    again = run("send", slug, "--yes", smtp_port=smtp_server.port)
    assert again.exit_code == 1 and "--force" in again.output
    assert "Traceback" not in again.output


def test_editions_and_deliveries_commands(database, run):
    add_subscribers(database, 4)
    slug = add_post(database)
    assert run("send", slug, "--yes").exit_code == 0  # maildir transport
    listed = json.loads(run("editions", "list", "--json").output)
    assert listed[0]["id"] == 1 and listed[0]["post"] == slug and listed[0]["status"] == "sent"
    assert listed[0]["counts"]["sent"] == 4
    shown = json.loads(run("editions", "show", "1", "--json").output)
    assert shown["recipients"] == 4
    rows = json.loads(run("deliveries", "1", "--json").output)
    assert {tuple(sorted(row)) >= ("attempts", "email", "last_reply", "status") for row in rows}
    assert {row["status"] for row in rows} == {"sent"} and {row["attempts"] for row in rows} == {1}
    assert json.loads(run("deliveries", "1", "--status", "failed", "--json").output) == []
    missing = run("editions", "show", "99")
    assert missing.exit_code == 1 and missing.output.startswith("error: no edition 99")
    cancel = run("editions", "cancel", "1")
    assert cancel.exit_code == 1 and "nothing to cancel" in cancel.output


def test_maildir_holds_one_file_per_subscriber(database, run, tmp_path: Path):
    addresses = add_subscribers(database, 5)
    slug = add_post(database)
    assert run("send", slug, "--yes").exit_code == 0
    box = mailbox.Maildir(tmp_path / "outbox", create=False)
    assert sorted(message["To"].split("<")[-1].rstrip(">") for message in box) == sorted(addresses)


def test_cancel_then_resume_sends_nothing(database, run):
    add_subscribers(database, 4)
    slug = add_post(database)
    with database.session() as session:
        edition_id = editions.create_edition(session, post_queue.get(session, slug), "Rust")
    result = run("editions", "cancel", str(edition_id))
    assert result.exit_code == 0 and "4 unsent messages skipped" in result.output
    resumed = run("send", "--resume", str(edition_id))
    assert resumed.exit_code == 1 and "cancelled" in resumed.output


def test_resume_retries_due_deferrals(database, run, smtp_server: SmtpServer):
    add_subscribers(database, 3)
    slug = add_post(database)
    with database.session() as session:
        edition_id = editions.create_edition(session, post_queue.get(session, slug), "Rust")
        session.execute(
            update(Delivery).values(status="deferred", attempts=1, next_attempt_at=utcnow())
        )
    result = run("send", "--resume", str(edition_id), smtp_port=smtp_server.port)
    assert result.exit_code == 0, result.output
    assert "sent 3" in result.output and smtp_server.handler.count() == 3
