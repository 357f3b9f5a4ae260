"""The bounce mailbox: an IMAP folder the returned mail lands in, read by the daemon every
``bounces.imap.poll_minutes`` and by ``newsletter bounces fetch``.

For a hosted mailbox (the bounce address at a hosting provider, Fastmail, Gmail) where no
MTA can pipe mail into ``bounces process``. Each message is fetched with ``BODY.PEEK``
(so it stays unread) and handed to ``returns.apply``, like every other way in.
Bounces and complaints are then moved to ``processed_folder``; anything else (a person
writing, an out-of-office reply, something that is no mail) is left where it is, unread,
never deleted. Mail that cannot be read (too big: never downloaded; nested too deep) is
moved, unread, to ``unreadable_folder`` for the owner, so it neither stops the messages
behind it nor comes back at every poll. Fetching is idempotent: a message that was
processed but could not be moved (a dropped connection) is recognised by its
fingerprint on the next poll.
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
from newsletter.errors import DeliveryError, NotAMailError, UnreadableMessageError
from newsletter.returns.apply import Processed, process_message
from newsletter.returns.parse import MAX_MESSAGE_BYTES

# The logger keeps the name it had before the poller joined ``returns``: logs are read by it.
log = logging.getLogger("newsletter.inbound.imap")

_UID = re.compile(rb"UID (\d+)")


@dataclass(frozen=True)
class Fetched:
    """One message of the mailbox: what processing said, and whether it was moved
    (without an outcome: set aside as unreadable, and ``problem`` says why and where)."""

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
    too_big = set(_search(client, "LARGER", str(MAX_MESSAGE_BYTES)))
    results: list[Fetched] = []
    folders_made: set[str] = set()

    def move(uid: bytes, folder: str) -> None:
        if folder not in folders_made:
            _make_folder(client, folder)
            folders_made.add(folder)
        _move(client, uid, folder, capabilities)

    def set_aside(uid: bytes, problem: str) -> None:
        move(uid, config.unreadable_folder)
        problem = f"{problem}; moved to {config.unreadable_folder!r}"
        results.append(Fetched(uid.decode(), None, True, problem))

    for uid in _search(client, "ALL"):
        if uid in too_big:
            set_aside(uid, f"larger than {MAX_MESSAGE_BYTES // (1024 * 1024)} MB")
            continue
        raw = _fetch(client, uid)
        if raw is None:
            results.append(Fetched(uid.decode(), None, False, "could not be fetched"))
            continue
        try:
            outcome = process_message(database, settings, raw, source="imap")
        except NotAMailError as exc:
            results.append(Fetched(uid.decode(), None, False, str(exc)))
            continue
        except UnreadableMessageError as exc:
            set_aside(uid, str(exc))
            continue
        if not outcome.is_report:
            results.append(Fetched(uid.decode(), outcome, False))
            continue
        move(uid, config.processed_folder)
        results.append(Fetched(uid.decode(), outcome, True))
    if folders_made and "MOVE" not in capabilities:
        client.expunge()
    return results


def _search(client: imaplib.IMAP4, *criteria: str) -> list[bytes]:
    status, found = client.uid("SEARCH", *criteria)
    return found[0].split() if status == "OK" and found and found[0] else []


def _fetch(client: imaplib.IMAP4, uid: bytes) -> bytes | None:
    status, data = client.uid("FETCH", uid, "(BODY.PEEK[])")  # type: ignore[arg-type]
    if status != "OK":
        return None
    for item in data:
        if isinstance(item, tuple) and _UID.search(item[0]):
            return bytes(item[1])
    return None


def _make_folder(client: imaplib.IMAP4, folder: str) -> None:
    """Create the folder unless it exists (CREATE then answers NO)."""
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
    # Gone already is no failure: another daemon polling the same mailbox moved it (it
    # read it too, and the report's fingerprint made the second reading change nothing).
    if status != "OK" and _search(client, "UID", uid.decode()):
        raise DeliveryError(f"cannot move a message to {folder!r}")
