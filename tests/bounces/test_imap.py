"""The bounce mailbox: the corpus delivered into a real IMAP server (dovecot, TLS with a
trustme certificate, password login), read by the daemon's poll job and by
``newsletter bounces fetch``. Bounces and complaints end in the processed folder, other
mail stays in the inbox unread; a second poll changes nothing."""

from __future__ import annotations

import dataclasses
import imaplib
import json
import ssl
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli
from newsletter.config import ImapSection, Secret
from newsletter.db.database import Database
from newsletter.runtime.daemon import Daemon

from .dovecot import PASSWORD, USER, Dovecot, running_dovecot
from .helpers import (
    CORPUS,
    SECRET,
    add_readers,
    delivery_of,
    fill,
    make_settings,
    relay_port,
    send_next,
    start_relay,
    status_of,
    write_config,
)
from .test_corpus import EXPECTED

NAMES = sorted(EXPECTED)
READERS = tuple(f"lezer{n}@voorbeeld.nl" for n in range(len(NAMES)))
# Messages that are no bounce or complaint (as classified) stay in the inbox.
LEFT = {"out_of_office.eml", "vacation.eml", "malformed_mime.eml", "not_a_mail.pdf"}


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    # Not under pytest's tmp_path: dovecot runs as nobody when the tests run as root, and
    # pytest's folders are private to their owner.
    with (
        tempfile.TemporaryDirectory(prefix="newsletter-dovecot-") as folder,
        running_dovecot(Path(folder)) as server,
    ):
        yield server


def _client(server: Dovecot) -> imaplib.IMAP4_SSL:
    context = ssl.create_default_context(cafile=str(server.ca_file))
    client = imaplib.IMAP4_SSL("127.0.0.1", server.port, ssl_context=context, timeout=10)
    client.login(USER, PASSWORD)
    return client


def _empty(server: Dovecot) -> None:
    client = _client(server)
    for folder in ("INBOX", "Verwerkt"):
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


def test_the_daemon_reads_the_bounce_mailbox(
    dovecot: Dovecot, database: Database, database_url: str, tmp_path: Path
) -> None:
    _empty(dovecot)
    controller, relay = start_relay()
    try:
        port = relay_port(controller)
        settings = make_settings(database_url, port)
        settings = dataclasses.replace(
            settings,
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
        add_readers(database, READERS)
        edition_id = send_next(database, settings, "rust-vinden")
    finally:
        controller.stop()

    client = _client(dovecot)
    for reader, name in zip(READERS, NAMES, strict=True):
        delivery = delivery_of(database, edition_id, reader)
        (envelope,) = [e for e in relay.log if reader in e.recipients]
        raw = fill(name, delivery=delivery, return_path=envelope.mail_from, recipient=reader)
        raw = f"X-Corpus: {name}\n".encode() + raw
        client.append("INBOX", None, imaplib.Time2Internaldate(time.time()), raw)
    client.append(
        "INBOX",
        None,
        None,
        b"X-Corpus: not_a_mail.pdf\r\n" + (CORPUS / "not_a_mail.pdf").read_bytes(),
    )
    client.logout()

    Daemon(settings, database).bounce_mailbox_job()

    for reader, name in zip(READERS, NAMES, strict=False):
        assert status_of(database, reader) == EXPECTED[name][1], name
    inbox = _subjects_and_flags(dovecot, "INBOX")
    processed = _subjects_and_flags(dovecot, "Verwerkt")
    assert {subject.split(b": ")[1].decode() for subject, _ in inbox} == LEFT
    assert {subject.split(b": ")[1].decode() for subject, _ in processed} == set(NAMES) - LEFT
    assert all(b"\\Seen" not in flags for _, flags in inbox)

    # The CLI's fetch: the messages left are read again and change nothing.
    result = _fetch_cli(_imap_config(tmp_path, database_url, dovecot), PASSWORD, "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert len(lines) == len(LEFT)
    assert not any(line.get("moved") for line in lines)
    assert _subjects_and_flags(dovecot, "INBOX") == inbox
    for reader, name in zip(READERS, NAMES, strict=False):
        assert status_of(database, reader) == EXPECTED[name][1], name


def _imap_config(tmp_path: Path, database_url: str, dovecot: Dovecot) -> Path:
    config = write_config(tmp_path / "newsletter.toml", database_url, 25)
    config.write_text(
        config.read_text()
        + f"""
[bounces.imap]
host = "127.0.0.1"
port = {dovecot.port}
ca_file = "{dovecot.ca_file}"
user = "{USER}"
""",
        encoding="utf-8",
    )
    return config


def _fetch_cli(config: Path, password: str, *args: str) -> Result:
    return CliRunner().invoke(
        cli,
        ["--config", str(config), "bounces", "fetch", *args],
        env={
            "NEWSLETTER_SECRET_KEY": SECRET,
            "NEWSLETTER_BOUNCES_IMAP_PASSWORD": password,
            "NEWSLETTER_CONFIG": None,
        },
    )


def test_a_wrong_password_is_one_line_and_exit_1(
    dovecot: Dovecot, database_url: str, tmp_path: Path
) -> None:
    result = _fetch_cli(_imap_config(tmp_path, database_url, dovecot), "fout")
    assert result.exit_code == 1
    assert result.output.startswith("error: the bounce mailbox 127.0.0.1:")
    assert "Traceback" not in result.output
