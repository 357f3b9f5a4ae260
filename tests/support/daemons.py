"""Real ``newsletter run`` processes against the test relay, for any test that needs a daemon.

The SMTP server is the toolkit's aiosmtpd server (a thread in this process); with
``Faults(data_seconds=...)`` it takes a while per message, so a send lasts long enough to
be interrupted.
Daemon processes run the installed console script with the configuration in environment
variables only, in a working directory of their own; their output goes to a log file.
A daemon can run under a host name of its own, as on another machine (``start(host=...)``).
Every wait is a poll with a generous deadline, never a fixed sleep.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from newsletter.db.database import open_database
from newsletter.delivery import editions
from newsletter.delivery.editions import EditionInfo
from tests.support.settings import AMSTERDAM, BASE_URL, LIST_ID, SECRET, SENDER
from tests.support.system import NEWSLETTER_SCRIPT, free_port, wait_until

STOP_DEADLINE_SECONDS = 15.0


def cron_due_minutes_ago(minutes: int = 2) -> str:
    """A 5-field crontab whose only slot this year was ``minutes`` ago (Amsterdam time)."""
    slot = datetime.now(AMSTERDAM) - timedelta(minutes=minutes)
    return f"{slot.minute} {slot.hour} {slot.day} {slot.month} *"


@dataclass
class DaemonRunner:
    """Starts ``newsletter`` processes for one database, one SMTP server, one directory."""

    workdir: Path
    database_url: str
    smtp_port: int
    cron: str = field(default_factory=cron_due_minutes_ago)
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    runs: int = 0

    def env(self, web_port: int | None = None, **overrides: str) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
        return {
            **inherited,
            "NEWSLETTER_SECRET_KEY": SECRET,
            "NEWSLETTER_DATABASE__URL": self.database_url,
            "NEWSLETTER_NEWSLETTER__BASE_URL": BASE_URL,
            "NEWSLETTER_NEWSLETTER__FROM_ADDRESS": SENDER,
            "NEWSLETTER_NEWSLETTER__LIST_ID": LIST_ID,
            "NEWSLETTER_SMTP__TRANSPORT": "smtp",
            "NEWSLETTER_SMTP__HOST": "127.0.0.1",
            "NEWSLETTER_SMTP__PORT": str(self.smtp_port),
            "NEWSLETTER_SMTP__SECURITY": "none",
            "NEWSLETTER_SMTP__TIMEOUT": "10",
            "NEWSLETTER_SCHEDULE__CRON": self.cron,
            "NEWSLETTER_SCHEDULE__TIMEZONE": "Europe/Amsterdam",
            "NEWSLETTER_SCHEDULE__CATCH_UP_HOURS": "24",
            "NEWSLETTER_WEB__PORT": str(web_port or free_port()),
            **self.extra_env,
            **overrides,
        }

    def start(self, *args: str, host: str | None = None, **overrides: str) -> Daemon:
        """``newsletter run ARGS``, its stdout and stderr in files of its own.

        ``host``: the process runs under that host name, in a UTS namespace of its own
        (``unshare --uts``, as root), as if on another machine: its leases say
        ``host:pid``. ``unshare`` and the shell exec in turn, so the pid is the daemon's.
        """
        self.runs += 1
        web_port = free_port()
        stdout = self.workdir / f"run-{self.runs}.out"
        stderr = self.workdir / f"run-{self.runs}.err"
        command = [str(NEWSLETTER_SCRIPT), "run", *args]
        if host is not None:
            command = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', host, *command]
        with stdout.open("wb") as out, stderr.open("wb") as err:
            process = subprocess.Popen(
                command,
                env=self.env(web_port, **overrides),
                cwd=self.workdir,
                stdout=out,
                stderr=err,
            )
        self.processes.append(process)
        return Daemon(process, web_port, stdout, stderr, host or socket.gethostname())

    def command(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Any other ``newsletter`` command, to completion."""
        return subprocess.run(
            [str(NEWSLETTER_SCRIPT), *args],
            env=self.env(),
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        """Any other ``newsletter`` command, started, its output in pipes: for commands
        that must run at the same moment as others."""
        return subprocess.Popen(
            [str(NEWSLETTER_SCRIPT), *args],
            env=self.env(),
            cwd=self.workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def status(self) -> dict[str, Any]:
        result = self.command("status", "--json")
        assert result.returncode == 0, result.stderr
        parsed: dict[str, Any] = json.loads(result.stdout)
        return parsed

    def editions(self) -> list[EditionInfo]:
        database = open_database(self.database_url)
        try:
            with database.session() as session:
                return editions.list_editions(session)
        finally:
            database.dispose()

    def kill_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()


@dataclass
class Daemon:
    process: subprocess.Popen[bytes]
    web_port: int
    stdout_path: Path
    stderr_path: Path
    host: str

    @property
    def identity(self) -> str:
        """What its leases say: ``host:pid`` (see ``delivery.ledger.owner_identity``)."""
        return f"{self.host}:{self.process.pid}"

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def output(self) -> str:
        return f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def assert_alive(self) -> None:
        assert self.alive(), f"the daemon exited with {self.process.returncode}\n{self.output()}"

    def get(self, path: str) -> tuple[int, str]:
        """An HTTP GET against the daemon's web app: (status, body)."""
        url = f"http://127.0.0.1:{self.web_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return int(response.status), response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read().decode("utf-8", errors="replace")

    def healthy(self) -> bool:
        self.assert_alive()
        try:
            status, _ = self.get("/healthz")
        except OSError:
            return False
        return status == 200

    def wait_healthy(self, timeout: float = 30) -> None:
        wait_until(self.healthy, timeout=timeout, what=f"/healthz of the daemon\n{self.output()}")

    def wait_for_log(self, text: str, timeout: float = 30) -> None:
        def logged() -> bool:
            self.assert_alive()
            return text in self.stderr

        wait_until(logged, timeout=timeout, what=f"{text!r} in the daemon's log\n{self.output()}")

    def stop(self, timeout: float = STOP_DEADLINE_SECONDS) -> float:
        """SIGTERM; returns the seconds until exit. Fails unless it exits 0 in ``timeout``."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"the daemon did not stop within {timeout} s of SIGTERM\n{self.output()}")
        assert code == 0, f"exit code {code} after SIGTERM\n{self.output()}"
        return time.monotonic() - started

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


RunnerFactory = Callable[..., DaemonRunner]
