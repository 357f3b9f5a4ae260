"""A daemon process of the simulated year: the real weekly and due-work jobs, told the
simulated moment, in a process of its own so that it can be killed with SIGKILL mid-send.

Run as ``python -m tests.support.year.child WIRING NOW``; :func:`start_daemon` does that.
(A minimal helper of its own: the runtime tests' ``DaemonRunner`` runs ``newsletter run``
on the wall clock, which cannot be told the simulated moment.)
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

from newsletter.db.database import open_database
from newsletter.runtime.jobs import make_weekly_edition, send_due_work
from tests.support.system import REPOSITORY

from .world import Wiring, year_settings


def start_daemon(wiring: Wiring, now: datetime, log: Path) -> subprocess.Popen[bytes]:
    """The weekly job and the start-up due work at ``now``, in a new process."""
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.support.year.child", wiring.to_json(), now.isoformat()],
            cwd=REPOSITORY,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def main(wiring_json: str, now_text: str) -> None:
    wiring = Wiring.from_json(wiring_json)
    settings = year_settings(wiring)
    now = datetime.fromisoformat(now_text)
    database = open_database(wiring.database_url)
    try:
        make_weekly_edition(database, settings, now)
        send_due_work(database, settings, now, at_start=True)
    finally:
        database.dispose()


if __name__ == "__main__":
    main(*sys.argv[1:3])
