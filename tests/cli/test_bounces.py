"""``newsletter bounces process`` with the corpus of returned mail, end to end: a real
edition goes out through the test relay, then each message comes back the way it would
(filled in for a real delivery, its VERP return path taken from the relay's MAIL FROM)
and is fed to the CLI as a file, from stdin, or in a Maildir folder. Each must leave the
reader in the right state, write the right events, and change nothing a second time."""

from __future__ import annotations

import json
import mailbox
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from newsletter.db.database import Database
from newsletter.db.models import BounceReport, Event
from newsletter.returns.parse import MAX_DEPTH, MAX_MESSAGE_BYTES
from tests.support.cli import NewsletterCli
from tests.support.db import add_subscribers
from tests.support.returned import (
    CORPUS,
    EXPECTED,
    STRANGERS,
    bounce_env,
    bounce_settings,
    events_about,
    forget_received,
    nested_message,
    oversized_message,
    recipients_of,
    returned,
    send_next,
    status_of,
)
from tests.support.smtp import SmtpServer
from tests.support.system import NEWSLETTER_SCRIPT

READER = "lezer1@voorbeeld.nl"


@dataclass
class Sent:
    database: Database
    server: SmtpServer
    edition_id: int
    cli: NewsletterCli

    def returned(self, name: str, reader: str = READER) -> bytes:
        return returned(self.server, self.database, self.edition_id, reader, name)

    def process(self, *args: str, input: bytes | None = None) -> str:
        return self.cli.ok("bounces", "process", *args, input=input, **bounce_env(self.server.port))

    def counts(self) -> tuple[int, int]:
        with self.database.session() as session:
            reports = session.scalar(select(func.count()).select_from(BounceReport))
            events = session.scalar(select(func.count()).select_from(Event))
            return int(reports or 0), int(events or 0)


@pytest.fixture
def sent(database: Database, database_url: str, smtp_server: SmtpServer, tmp_path: Path) -> Sent:
    settings = bounce_settings(database_url, smtp_server.port)
    add_subscribers(database, 3)
    edition_id = send_next(database, settings, "rust-vinden")
    return Sent(database, smtp_server, edition_id, NewsletterCli(database_url, tmp_path))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_through_the_cli(sent: Sent, name: str, tmp_path: Path) -> None:
    result, status = EXPECTED[name]
    message = tmp_path / name
    message.write_bytes(sent.returned(name))

    answer = json.loads(sent.process("--json", str(message)))
    assert answer["result"] == result, answer
    # Whose message it was is known whenever the return path verifies, also for a reply.
    assert answer["email"] == (None if name in STRANGERS else READER)
    assert answer["reason"] and "@" not in answer["reason"]
    assert status_of(sent.database, READER) == status
    for other in ("lezer0@voorbeeld.nl", "lezer2@voorbeeld.nl"):
        assert status_of(sent.database, other) == "active"
    events = [e for e in events_about(sent.database, READER) if e[1] == "cli"]
    if result == "ignored":
        assert events == []
    else:
        ((kind, _, detail),) = events
        assert kind == ("complaint" if result == "complaint" else "bounce")
        assert (detail["type"], detail["status_after"]) == (result, status)

    counts = sent.counts()
    again = json.loads(sent.process("--json", str(message)))
    assert again["duplicate"] is True
    assert sent.counts() == counts


def test_a_file_that_is_not_a_mail_exits_1_and_changes_nothing(sent: Sent) -> None:
    result = sent.cli(
        "bounces", "process", str(CORPUS / "not_a_mail.pdf"), **bounce_env(sent.server.port)
    )
    assert result.exit_code == 1
    assert "not an e-mail message" in result.stderr
    assert "Traceback" not in result.output
    assert sent.counts()[0] == 0
    sent.cli.fails(
        "bounces", "process", str(CORPUS / "no-such-file.eml"), **bounce_env(sent.server.port)
    )


def test_a_maildir_and_stdin(sent: Sent, tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for name in ("postfix_hard.eml", "out_of_office.eml", "vacation.eml"):
        box.add(sent.returned(name))
    output = sent.process("--json", str(tmp_path / "Maildir"))
    answers = [json.loads(line) for line in output.splitlines()]
    assert sorted(a["result"] for a in answers) == ["hard", "ignored", "ignored"]
    assert status_of(sent.database, READER) == "bounced"

    piped = sent.process("-", input=sent.returned("yahoo_arf.eml"))
    assert piped.startswith(f"-: complaint {READER}: complaint (abuse)")
    assert status_of(sent.database, READER) == "complained"


def test_the_next_edition_skips_bounced_and_complaining_readers(
    sent: Sent, database_url: str
) -> None:
    complaint = sent.returned("yahoo_arf.eml", "lezer2@voorbeeld.nl")
    for raw in (sent.returned("gmail_hard.eml"), complaint):
        sent.process("-", input=raw)
    forget_received(sent.server)

    send_next(sent.database, bounce_settings(database_url, sent.server.port), "kleine-stappen")

    assert recipients_of(sent.server) == {"lezer0@voorbeeld.nl"}


def test_a_maildir_run_sets_hostile_messages_aside_and_goes_on(sent: Sent, tmp_path: Path) -> None:
    """Issue 20: a message nested 3,000 deep, one over the size cap and a FIFO in ``new/``
    cost one line each on stderr, and the bounce after them is still processed (exit 1, no
    traceback). In a process of its own: on the FIFO the old code waited in open() forever."""
    box = tmp_path / "Maildir"
    for folder in ("new", "cur", "tmp"):
        (box / folder).mkdir(parents=True)
    (box / "new" / "1-nested").write_bytes(nested_message(3000))
    (box / "new" / "2-big").write_bytes(oversized_message(MAX_MESSAGE_BYTES + 1))
    os.mkfifo(box / "new" / "3-fifo")
    (box / "cur" / "4-bounce:2,").write_bytes(sent.returned("postfix_hard.eml"))

    inherited = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    result = subprocess.run(
        [str(NEWSLETTER_SCRIPT), "bounces", "process", str(box)],
        env={**inherited, **sent.cli.env, **bounce_env(sent.server.port)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert errors == [
        f"1-nested: error: nested more than {MAX_DEPTH} parts deep",
        "2-big: error: larger than 10 MB",
        "3-fifo: error: not a regular file",
    ]
    assert result.stdout.startswith(f"4-bounce: hard {READER}: 550 5.1.1"), result.stdout
    assert status_of(sent.database, READER) == "bounced"


def test_a_dropped_reader_is_explained_shown_and_brought_back(sent: Sent, tmp_path: Path) -> None:
    """As the owner goes about it: the bounce processed, explained, the edition's counts per
    domain, the reader's page, and the reader brought back; those who left stay out."""
    message = tmp_path / "bounce.eml"
    message.write_bytes(sent.returned("postfix_hard.eml"))
    answer = json.loads(sent.process("--json", str(message)))
    (verdict,) = answer["verdicts"]
    assert set(verdict) == {
        "kind", "reason", "status", "reply_code", "recipients", "diagnostic", "result",
        "delivery", "subscriber_status",
    }  # fmt: skip
    assert (verdict["kind"], verdict["reason"], verdict["status"]) == (
        "hard",
        "userunknown",
        "5.1.1",
    )
    assert verdict["recipients"] == [READER]
    assert verdict["delivery"] == {
        "edition": sent.edition_id,
        "subscriber_id": answer["subscriber_id"],
        "email": READER,
    }

    # explain reads the file only: a database that cannot be reached does not matter
    nowhere = {"NEWSLETTER_DATABASE__URL": "postgresql://nobody@127.0.0.1:9/nowhere"}
    explained = json.loads(sent.cli.ok("bounces", "explain", "--json", str(message), **nowhere))
    assert explained["verdicts"][0]["recipients"] == [READER]
    assert explained["verdicts"][0]["kind"] == "hard"
    told = sent.cli.ok("bounces", "explain", str(message), **nowhere)
    assert told.startswith("bounce.eml: hard [userunknown]") and f"recipients: {READER}" in told
    sent.cli.fails("bounces", "explain", str(tmp_path / "missing.eml"), **nowhere)

    shown = json.loads(sent.cli.ok("editions", "show", str(sent.edition_id), "--json"))
    assert shown["by_domain"] == [
        {"domain": "voorbeeld.nl", "sent": 3, "deferred": 0, "failed": 0, "hard": 1, "soft": 0,
         "sender": 0, "complaints": 0}
    ]  # fmt: skip
    reader = json.loads(sent.cli.ok("subscribers", "show", READER, "--json"))
    assert reader["status"] == "bounced"
    dropped = reader["dropped_by"]
    assert (dropped["kind"], dropped["reason"], dropped["edition"]) == (
        "hard",
        "userunknown",
        sent.edition_id,
    )
    assert "5.1.1" in dropped["diagnostic"]
    assert "dropped by:" in sent.cli.ok("subscribers", "show", READER)

    assert sent.cli.ok("subscribers", "reactivate", READER) == f"{READER}: active\n"
    assert events_about(sent.database, READER)[-1][:2] == ("reactivate", "cli")
    assert "is active, not bounced" in sent.cli.fails("subscribers", "reactivate", READER)
    sent.process("-", input=sent.returned("yahoo_arf.eml", "lezer2@voorbeeld.nl"))
    sent.cli.ok("subscribers", "remove", "lezer0@voorbeeld.nl")
    for gone, status in (
        ("lezer2@voorbeeld.nl", "complained"),
        ("lezer0@voorbeeld.nl", "unsubscribed"),
    ):
        error = sent.cli.fails("subscribers", "reactivate", gone)
        assert f"is {status} (their choice is respected)" in error
        assert status_of(sent.database, gone) == status
    sent.cli.fails("subscribers", "reactivate", "niemand@voorbeeld.nl")
    sent.cli.fails("subscribers", "reactivate", "geen adres", code=1)


@pytest.mark.parametrize(
    ("name", "kind", "reason", "status"),
    [
        ("gmail_dmarc.eml", "sender", "authfailure", "active"),
        ("arf_optout.eml", "unsubscribe", "optout", "unsubscribed"),
    ],
)
def test_a_dmarc_rejection_and_an_opt_out_through_the_cli(
    sent: Sent, tmp_path: Path, name: str, kind: str, reason: str, status: str
) -> None:
    message = tmp_path / name
    message.write_bytes(sent.returned(name))
    answer = json.loads(sent.process("--json", str(message)))
    assert (answer["result"], answer["reason"]) == (kind, reason)
    assert status_of(sent.database, READER) == status
    shown = json.loads(sent.cli.ok("editions", "show", str(sent.edition_id), "--json"))
    assert shown["sender"] == (1 if kind == "sender" else 0)
