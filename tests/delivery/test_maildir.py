"""The local outbox: one private file per message, in local line endings, and a folder
that cannot be written a deferral, not a crash."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

from newsletter.delivery.attempt import Outcome
from newsletter.delivery.maildir import MaildirLane

MESSAGE = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: Rust\r\n\r\nregel 1\r\nregel 2\r\n"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_each_message_is_a_private_file_in_new(tmp_path: Path) -> None:
    outbox = tmp_path / "data" / "outbox"
    lane = MaildirLane(outbox)
    first = await lane.deliver("a@example.org", "b@example.org", MESSAGE)
    await lane.deliver("a@example.org", "c@example.org", MESSAGE)
    await lane.close()
    files = sorted((outbox / "new").iterdir())
    assert len(files) == 2
    assert first.outcome == Outcome.SENT and first.reply.startswith(f"250 written to {outbox}")
    assert files[0].read_bytes() == MESSAGE.replace(b"\r\n", b"\n")
    assert {_mode(path) for path in files} == {0o600}
    assert {_mode(outbox / folder) for folder in ("tmp", "new", "cur")} == {0o700}
    assert _mode(tmp_path / "data") == 0o700


async def test_a_file_in_an_outbox_open_to_others_is_private_still(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    for folder in ("tmp", "new", "cur"):
        (outbox / folder).mkdir(parents=True, mode=0o777)
        (outbox / folder).chmod(0o777)
    lane = MaildirLane(outbox)
    await lane.deliver("a@example.org", "b@example.org", MESSAGE)
    await lane.close()
    (written,) = (outbox / "new").iterdir()
    assert _mode(written) == 0o600


async def test_an_outbox_that_cannot_be_written_defers_the_message(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    lane = MaildirLane(outbox)
    shutil.rmtree(outbox / "tmp")  # where every message is written first
    attempt = await lane.deliver("a@example.org", "b@example.org", MESSAGE)
    await lane.close()
    assert attempt.outcome == Outcome.DEFERRED
    assert attempt.reply.startswith(f"cannot write to the maildir {outbox}: ")
    assert not attempt.connection_failed
