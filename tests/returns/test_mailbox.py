"""The bounce mailbox: the corpus delivered into a real IMAP server (dovecot, TLS with a
trustme certificate, password login), read by the daemon's poll job and by
``newsletter bounces fetch``. Bounces and complaints end in the processed folder, other
mail stays in the inbox unread; a second poll changes nothing."""

from __future__ import annotations

import imaplib
import json
import logging
import ssl
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import trustme
from click.testing import Result
from sqlalchemy import select

from newsletter.config import ImapSection, Secret, Settings
from newsletter.db.database import Database
from newsletter.db.models import Event
from newsletter.returns.parse import MAX_MESSAGE_BYTES
from newsletter.runtime.daemon import Daemon
from tests.support.cli import NewsletterCli
from tests.support.db import add_subscribers
from tests.support.dovecot import PASSWORD, USER, Dovecot
from tests.support.returned import (
    CORPUS,
    EXPECTED,
    bounce_env,
    bounce_settings,
    nested_message,
    oversized_message,
    returned,
    send_next,
    status_of,
)
from tests.support.smtp import SmtpServer

NAMES = sorted(EXPECTED)
READERS = tuple(f"lezer{n}@voorbeeld.nl" for n in range(len(NAMES)))
# Messages that are no bounce or complaint (as classified) stay in the inbox; a notice
# that delivery is only delayed is none (issue 22).
LEFT = {
    "out_of_office.eml",
    "vacation.eml",
    "malformed_mime.eml",
    "not_a_mail.pdf",
    "postfix_delayed.eml",
}
# Where messages that cannot be read are set aside (bounces.imap.unreadable_folder).
UNREADABLE = "newsletter-unreadable"


def _client(server: Dovecot) -> imaplib.IMAP4_SSL:
    context = ssl.create_default_context(cafile=str(server.ca_file))
    client = imaplib.IMAP4_SSL("127.0.0.1", server.port, ssl_context=context, timeout=10)
    client.login(USER, PASSWORD)
    return client


def _empty(server: Dovecot) -> None:
    client = _client(server)
    for folder in ("INBOX", "Verwerkt", UNREADABLE):
        status, count = client.select(folder)
        if status == "OK" and count[0] != b"0":
            client.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
            client.expunge()
    client.logout()


def _subjects_and_flags(server: Dovecot, folder: str) -> list[tuple[bytes, bytes]]:
    client = _client(server)
    try:
        status, count = client.select(folder, readonly=True)
        if status != "OK" or count[0] == b"0":
            return []
        _, data = client.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (X-Corpus)])")
        found = []
        for item in data:
            if isinstance(item, tuple):
                found.append((item[1].strip(), item[0]))
        return sorted(found)
    finally:
        client.logout()


def _mailbox_settings(database_url: str, smtp_port: int, dovecot: Dovecot) -> Settings:
    """The daemon's settings: the test relay, and dovecot as the bounce mailbox."""
    return bounce_settings(
        database_url,
        smtp_port,
        suspect_minimum=len(READERS) + 1,  # every reader at one domain, bounced at once
        bounces_imap=ImapSection(
            host="127.0.0.1",
            port=dovecot.port,
            security="tls",
            ca_file=str(dovecot.ca_file),
            user=USER,
            folder="INBOX",
            processed_folder="Verwerkt",
        ),
        imap_password=Secret(PASSWORD),
    )


def _fill_mailbox(
    dovecot: Dovecot, database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    """An edition to READERS, and what came back of it in the (emptied) bounce mailbox:
    a corpus message for each reader and a file that is no mail."""
    _empty(dovecot)
    add_subscribers(database, len(READERS))
    edition_id = send_next(database, settings, "rust-vinden")
    client = _client(dovecot)
    for reader, name in zip(READERS, NAMES, strict=True):
        raw = returned(smtp_server, database, edition_id, reader, name)
        raw = f"X-Corpus: {name}\n".encode() + raw
        client.append("INBOX", None, imaplib.Time2Internaldate(time.time()), raw)
    client.append(
        "INBOX",
        None,
        None,
        b"X-Corpus: not_a_mail.pdf\r\n" + (CORPUS / "not_a_mail.pdf").read_bytes(),
    )
    client.logout()


def test_the_daemon_reads_the_bounce_mailbox(
    dovecot: Dovecot,
    database: Database,
    database_url: str,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    settings = _mailbox_settings(database_url, smtp_server.port, dovecot)
    _fill_mailbox(dovecot, database, settings, smtp_server)

    Daemon(settings, database).bounce_mailbox_job()

    for reader, name in zip(READERS, NAMES, strict=False):
        assert status_of(database, reader) == EXPECTED[name][1], name
    inbox = _subjects_and_flags(dovecot, "INBOX")
    processed = _subjects_and_flags(dovecot, "Verwerkt")
    assert {subject.split(b": ")[1].decode() for subject, _ in inbox} == LEFT
    assert {subject.split(b": ")[1].decode() for subject, _ in processed} == set(NAMES) - LEFT
    assert all(b"\\Seen" not in flags for _, flags in inbox)

    # The CLI's fetch: the messages left are read again and change nothing.
    result = _fetch_cli(database_url, tmp_path, dovecot, PASSWORD, smtp_server.port, "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert len(lines) == len(LEFT)
    assert not any(line.get("moved") for line in lines)
    assert _subjects_and_flags(dovecot, "INBOX") == inbox
    for reader, name in zip(READERS, NAMES, strict=False):
        assert status_of(database, reader) == EXPECTED[name][1], name


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_daemons_on_two_hosts_polling_one_mailbox_at_once_process_each_report_once(
    dovecot: Dovecot,
    database: Database,
    database_url: str,
    smtp_server: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Both read the messages; a report's fingerprint lets the second reading change
    nothing, and a message the other moved first is no failure."""
    settings = _mailbox_settings(database_url, smtp_server.port, dovecot)
    _fill_mailbox(dovecot, database, settings, smtp_server)
    start = threading.Barrier(2)

    def poll() -> None:
        start.wait(timeout=10)
        Daemon(settings, database).bounce_mailbox_job()

    pollers = [threading.Thread(target=poll) for _ in range(2)]
    with caplog.at_level(logging.WARNING, logger="newsletter.runtime.daemon"):
        for poller in pollers:
            poller.start()
        for poller in pollers:
            poller.join(timeout=60)
    assert not [r.message for r in caplog.records if r.name == "newsletter.runtime.daemon"]

    # Every report is in the processed folder; one that both moved at the same moment may
    # be there twice (dovecot copies it for each), which changes no reader.
    processed = _subjects_and_flags(dovecot, "Verwerkt")
    assert {subject.split(b": ")[1].decode() for subject, _ in processed} == set(NAMES) - LEFT
    with database.session() as session:
        told = session.scalars(
            select(Event.subscriber_id).where(Event.kind.in_(("bounce", "complaint")))
        )
        assert set(Counter(told).values()) == {1}, "a reader's return counted twice"
    for reader, name in zip(READERS, NAMES, strict=False):
        assert status_of(database, reader) == EXPECTED[name][1], name


def _fetch_cli(
    database_url: str,
    workdir: Path,
    dovecot: Dovecot,
    password: str,
    port: int,
    *args: str,
    security: str = "tls",
    ca_file: Path | None = None,
) -> Result:
    return NewsletterCli(database_url, workdir)(
        "bounces",
        "fetch",
        *args,
        **bounce_env(port),
        NEWSLETTER_BOUNCES__IMAP__HOST="127.0.0.1",
        NEWSLETTER_BOUNCES__IMAP__PORT=str(
            dovecot.port if security == "tls" else dovecot.starttls_port
        ),
        NEWSLETTER_BOUNCES__IMAP__SECURITY=security,
        NEWSLETTER_BOUNCES__IMAP__CA_FILE=str(ca_file or dovecot.ca_file),
        NEWSLETTER_BOUNCES__IMAP__USER=USER,
        NEWSLETTER_BOUNCES_IMAP_PASSWORD=password,
    )


def test_a_wrong_password_is_one_line_and_exit_1(
    dovecot: Dovecot, database_url: str, tmp_path: Path
) -> None:
    result = _fetch_cli(database_url, tmp_path, dovecot, "fout", 25)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the bounce mailbox 127.0.0.1:")
    assert "Traceback" not in result.output


def test_starttls_mailbox_is_read_after_the_certificate_is_checked(
    dovecot: Dovecot,
    database: Database,
    database_url: str,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    """Port 143 with STARTTLS, as many hosting providers offer it: the upgrade checks the
    server's certificate like implicit TLS does (a certificate of another CA is refused)."""
    _empty(dovecot)
    settings = bounce_settings(database_url, smtp_server.port)
    add_subscribers(database, 1)
    edition_id = send_next(database, settings, "rust-vinden")
    raw = returned(smtp_server, database, edition_id, READERS[0], "postfix_hard.eml")
    client = _client(dovecot)
    client.append("INBOX", None, None, b"X-Corpus: postfix_hard.eml\n" + raw)
    client.logout()

    stranger = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(stranger)
    refused = _fetch_cli(
        database_url, tmp_path, dovecot, PASSWORD, smtp_server.port,
        security="starttls", ca_file=stranger,
    )  # fmt: skip
    assert refused.exit_code == 1, refused.output
    assert refused.stderr.startswith("error: cannot reach the bounce mailbox 127.0.0.1:")
    assert "certificate verify failed" in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert status_of(database, READERS[0]) == "active"

    result = _fetch_cli(
        database_url, tmp_path, dovecot, PASSWORD, smtp_server.port, "--json", security="starttls"
    )
    assert result.exit_code == 0, result.output
    (line,) = [json.loads(line) for line in result.output.splitlines()]
    assert line["moved"], line
    assert status_of(database, READERS[0]) == "bounced"
    assert [subject for subject, _ in _subjects_and_flags(dovecot, "Verwerkt")] == [
        b"X-Corpus: postfix_hard.eml"
    ]


def test_unreadable_and_oversized_mail_is_set_aside_and_the_rest_is_read(
    dovecot: Dovecot,
    database: Database,
    database_url: str,
    smtp_server: SmtpServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 20: a message nested 3,000 deep made every `bounces fetch` end in a traceback
    before the bounce behind it. It is moved, unread, to a folder for the owner (made when
    missing), as is a message over the size cap (never downloaded); the bounce is read.
    The daemon's poll logs one line for each message it sets aside."""
    _empty(dovecot)
    settings = _mailbox_settings(database_url, smtp_server.port, dovecot)
    add_subscribers(database, 2)
    edition_id = send_next(database, settings, "rust-vinden")
    client = _client(dovecot)
    client.append("INBOX", None, None, b"X-Corpus: nested\r\n" + nested_message(3000))
    big = oversized_message(MAX_MESSAGE_BYTES + 1)
    client.append("INBOX", None, None, b"X-Corpus: big\r\n" + big)
    bounce = returned(smtp_server, database, edition_id, READERS[0], "postfix_hard.eml")
    client.append("INBOX", None, None, b"X-Corpus: postfix_hard.eml\n" + bounce)
    client.logout()

    result = _fetch_cli(database_url, tmp_path, dovecot, PASSWORD, smtp_server.port, "--json")

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(line["result"], line["moved"]) for line in lines] == [
        ("error", True),
        ("error", True),
        ("hard", True),
    ]
    assert "deep" in lines[0]["reason"] and "10 MB" in lines[1]["reason"], lines
    assert status_of(database, READERS[0]) == "bounced"
    assert _subjects_and_flags(dovecot, "INBOX") == []
    unreadable = _subjects_and_flags(dovecot, UNREADABLE)
    assert [subject for subject, _ in unreadable] == [b"X-Corpus: big", b"X-Corpus: nested"]
    assert all(b"\\Seen" not in flags for _, flags in unreadable)

    client = _client(dovecot)
    client.append("INBOX", None, None, b"X-Corpus: nested again\r\n" + nested_message(3000))
    client.logout()
    with caplog.at_level(logging.INFO):
        Daemon(settings, database).bounce_mailbox_job()
    set_aside = [r.getMessage() for r in caplog.records if UNREADABLE in r.getMessage()]
    assert len(set_aside) == 1 and "deep" in set_aside[0], caplog.text
    assert len(_subjects_and_flags(dovecot, UNREADABLE)) == 3
