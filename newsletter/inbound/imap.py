"""The bounce mailbox: an IMAP folder the returned mail lands in, read by the daemon every
``bounces.imap.poll_minutes`` and by ``newsletter bounces fetch``.

For a hosted mailbox (the bounce address at a hosting provider, Fastmail, Gmail) where no
MTA can pipe mail into ``bounces process``. Each message is fetched with ``BODY.PEEK``
(so it stays unread) and handed to ``delivery.bounces``, like every other way in.
Bounces and complaints are then moved to ``processed_folder``; anything else (a person
writing, an out-of-office reply, something that is no mail) is left where it is, unread,
never deleted. Fetching is idempotent: a message that was processed but could not be
moved (a dropped connection) is recognised by its fingerprint on the next poll.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass

from newsletter.config import ImapSection, Settings
from newsletter.db.database import Database
from newsletter.delivery.bounces import Processed, process_message
from newsletter.errors import DeliveryError
from newsletter.mail.bounce import Kind, NotAMailError, classify

log = logging.getLogger(__name__)

_UID = re.compile(rb"UID (\d+)")
# A bounce carries the returned headers at most; bigger messages are left for a person.
MAX_MESSAGE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Fetched:
    """One message of the mailbox: what processing said, and whether it was moved."""

    uid: str
    outcome: Processed | None
    moved: bool
    problem: str | None = None


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _connect(config: ImapSection, password: str) -> imaplib.IMAP4:
    where = f"{config.host}:{config.port}"
    client: imaplib.IMAP4 | None = None
    try:
        context = ssl.create_default_context(cafile=config.ca_file or None)
        if config.security == "tls":
            client = imaplib.IMAP4_SSL(
                config.host, config.port, ssl_context=context, timeout=config.timeout
            )
        else:
            client = imaplib.IMAP4(config.host, config.port, timeout=config.timeout)
            if config.security == "starttls":
                client.starttls(ssl_context=context)
        client.login(config.user, password)
    except imaplib.IMAP4.error as exc:
        _close(client)
        raise DeliveryError(f"the bounce mailbox {where} refused us: {_text(exc)}") from None
    except (OSError, ssl.SSLError) as exc:
        _close(client)
        raise DeliveryError(f"cannot reach the bounce mailbox {where}: {exc}") from None
    return client


def _close(client: imaplib.IMAP4 | None) -> None:
    if client is not None:
        with contextlib.suppress(OSError):
            client.shutdown()


def _text(exc: BaseException) -> str:
    value = exc.args[0] if exc.args else exc
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def fetch_mailbox(database: Database, settings: Settings) -> list[Fetched]:
    """Process every message in the bounce folder; see the module docstring."""
    config = settings.bounces_imap
    if not config.host:
        raise DeliveryError("no bounce mailbox is configured: set bounces.imap.host")
    assert settings.imap_password is not None  # config.py requires it with a host
    client = _connect(config, settings.imap_password.reveal())
    try:
        return _process_folder(client, database, settings, config)
    except imaplib.IMAP4.error as exc:
        raise DeliveryError(f"the bounce mailbox {config.host}: {_text(exc)}") from None
    except OSError as exc:
        raise DeliveryError(f"the bounce mailbox {config.host}: {exc}") from None
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()


def _process_folder(
    client: imaplib.IMAP4, database: Database, settings: Settings, config: ImapSection
) -> list[Fetched]:
    status, _ = client.select(_quoted(config.folder))
    if status != "OK":
        raise DeliveryError(f"the bounce mailbox has no folder {config.folder!r}")
    _, capability = client.capability()
    capabilities = set(capability[0].decode().upper().split()) if capability[0] else set()
    status, found = client.uid("SEARCH", "ALL")
    uids = found[0].split() if status == "OK" and found and found[0] else []
    results: list[Fetched] = []
    folder_made = False
    for uid in uids:
        raw = _fetch(client, uid)
        if raw is None:
            results.append(Fetched(uid.decode(), None, False, "could not be fetched"))
            continue
        try:
            is_report = classify(raw).kind != Kind.IGNORED
            outcome = process_message(database, settings, raw, source="imap")
        except NotAMailError as exc:
            results.append(Fetched(uid.decode(), None, False, str(exc)))
            continue
        if not is_report:
            results.append(Fetched(uid.decode(), outcome, False))
            continue
        if not folder_made:
            _make_folder(client, config.processed_folder)
            folder_made = True
        _move(client, uid, config.processed_folder, capabilities)
        results.append(Fetched(uid.decode(), outcome, True))
    if folder_made and "MOVE" not in capabilities:
        client.expunge()
    return results


def _fetch(client: imaplib.IMAP4, uid: bytes) -> bytes | None:
    status, data = client.uid("FETCH", uid, "(BODY.PEEK[])")  # type: ignore[arg-type]
    if status != "OK":
        return None
    for item in data:
        if isinstance(item, tuple) and _UID.search(item[0]):
            raw = item[1]
            return raw if len(raw) <= MAX_MESSAGE_BYTES else None
    return None


def _make_folder(client: imaplib.IMAP4, folder: str) -> None:
    """Create the folder for processed mail unless it exists (CREATE then answers NO)."""
    status, _ = client.create(_quoted(folder))
    if status != "OK":
        status, listed = client.list('""', _quoted(folder))
        if status != "OK" or not listed or listed[0] is None:
            raise DeliveryError(f"cannot create the folder {folder!r} in the bounce mailbox")


def _move(client: imaplib.IMAP4, uid: bytes, folder: str, capabilities: set[str]) -> None:
    if "MOVE" in capabilities:
        status, _ = client.uid("MOVE", uid, _quoted(folder))  # type: ignore[arg-type]
    else:
        status, _ = client.uid("COPY", uid, _quoted(folder))  # type: ignore[arg-type]
        if status == "OK":
            client.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")  # type: ignore[arg-type]
    if status != "OK":
        raise DeliveryError(f"cannot move a processed bounce to {folder!r}")
