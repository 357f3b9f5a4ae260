"""The local transport: every message becomes a file in a Maildir folder.

With no relay configured, a new user still sees exactly what would have been sent: open
the folder with any mail client (``mutt -f data/outbox``) or look at the files. The ledger
works as with SMTP: one file per subscriber, recorded as sent, resumable after a crash.
Maildir files use the local line ending, so the SMTP CRLFs become LFs.
"""

from __future__ import annotations

import mailbox
from pathlib import Path

from newsletter.delivery.attempt import Attempt, Outcome, transient
from newsletter.files import PRIVATE_FILE, make_private_folder


class MaildirLane:
    """One writer into the Maildir; as an engine lane it behaves like an SMTP connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Like the SQLite default, the outbox is made where it is configured, parents too,
        # private (its mails carry addresses and signed links); made here, not by
        # mailbox.Maildir, which fails when another sender makes it first.
        for folder in ("tmp", "new", "cur"):
            make_private_folder(path / folder)
        self._box = mailbox.Maildir(path, create=False)

    async def deliver(self, sender: str, recipient: str, message: bytes) -> Attempt:
        try:
            key = self._box.add(message.replace(b"\r\n", b"\n"))
            # mailbox makes it 0666 less the umask; an outbox folder that was there already
            # may be open to others.
            (self.path / "new" / key).chmod(PRIVATE_FILE)
        except OSError as exc:
            return transient(f"cannot write to the maildir {self.path}: {exc.strerror}")
        return Attempt(Outcome.SENT, f"250 written to {self.path / 'new' / key}")

    async def close(self) -> None:
        self._box.close()
