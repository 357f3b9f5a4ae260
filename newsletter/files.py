"""The private files the package writes: the data folder, the database, the keys.

They hold the subscriber list, the
mails with their signed links, and the secrets, so they are made private from the start (a
folder 0700, a secret 0600) rather than made and then narrowed, which leaves a moment in
which another local user can open them. This is done where each is made, not with a
process umask: the umask belongs to the whole process (and to every test in it), and a
file the user asks for, such as a preview, is theirs to share.

A file is written as a new file beside the old one and renamed over it: a symbolic link
planted at the name is replaced, never written through, and a reader sees the old file or
the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


def make_private_folder(path: Path) -> None:
    """Make ``path`` and its missing parents, each 0700.

    A folder that is there already keeps the mode its owner gave it (``doctor`` reports
    one that others can read).
    """
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)


def make_private_file(path: Path) -> None:
    """An empty file only the owner can read, in a private folder, unless it is there.

    SQLite would create the database 0644; made 0600 first, it stays so, and SQLite gives
    the ``-wal``, ``-shm`` and ``-journal`` files beside it the database file's mode.
    """
    make_private_folder(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE))


def write_file(path: Path, text: str, mode: int = PRIVATE_FILE) -> None:
    """Put ``text`` at ``path`` by writing a new file in its folder and renaming it over.

    The new file is created exclusively, without following links, with its final mode
    (less what the umask takes away), and flushed to disk before the rename, so a crash
    leaves the old file or the new one.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    descriptor = os.open(temporary, flags, mode)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
