"""Issue 20, defect 4: idle connections to the inbound listener of a real ``newsletter run``
took the whole process down. 1,100 of them used up its 1,024 file descriptors, ``/healthz``
stopped answering and the failed accept() was logged 108 MB in a minute.

The listener now holds at most ``inbound.max_sessions`` clients (the next get a 421), and
a process that runs out of descriptors anyway logs that once a minute and answers again
as soon as the connections are gone.
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
from pathlib import Path

from tests.support.daemons import Daemon, RunnerFactory
from tests.support.smtp import SmtpServer
from tests.support.system import free_port, wait_until


def _start(
    runner_factory: RunnerFactory, smtp: SmtpServer, tmp_path: Path, **env: str
) -> tuple[Daemon, int]:
    """The daemon, healthy, and the port of its listener."""
    runner = runner_factory(f"sqlite:///{tmp_path}/newsletter.db", smtp.port)
    port = free_port()
    daemon = runner.start(
        NEWSLETTER_INBOUND__ENABLED="true", NEWSLETTER_INBOUND__PORT=str(port), **env
    )
    daemon.wait_healthy()
    return daemon, port


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=20)


def _greeting(port: int) -> bytes:
    with _connect(port) as client:
        return client.recv(1024)


def test_clients_over_the_cap_get_421_and_the_pages_keep_answering(
    runner_factory: RunnerFactory, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    daemon, port = _start(
        runner_factory, smtp_server, tmp_path, NEWSLETTER_INBOUND__MAX_SESSIONS="5"
    )
    with contextlib.ExitStack() as held:
        sessions = [held.enter_context(_connect(port)) for _ in range(5)]
        for client in sessions:
            assert client.recv(1024).startswith(b"220 ")

        for _ in range(3):
            with _connect(port) as extra:
                assert extra.recv(1024).startswith(b"421 4.3.2 ")
                assert extra.recv(1024) == b""  # and hung up on
        assert daemon.get("/healthz")[0] == 200

        sessions[0].close()  # a place comes free
        wait_until(lambda: _greeting(port).startswith(b"220 "), timeout=20, what="a free place")
    daemon.stop()


def test_out_of_file_descriptors_the_daemon_lives_on_and_says_so_once(
    runner_factory: RunnerFactory, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    """The descriptor limit is lowered to what the running daemon uses plus 20, below
    ``max_sessions`` (100), and 60 clients connect and stay silent."""
    daemon, port = _start(runner_factory, smtp_server, tmp_path)
    pid = daemon.process.pid
    in_use = len(os.listdir(f"/proc/{pid}/fd"))
    _, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (in_use + 20, hard))

    with contextlib.ExitStack() as flood:
        for _ in range(60):
            flood.enter_context(_connect(port))
        daemon.wait_for_log("Too many open files")
        # Meanwhile /healthz is asked; without a descriptor left it cannot be answered (5 s
        # timeout). The old code logged each failed accept() with a traceback, about 100
        # times a second for each server.
        with contextlib.suppress(OSError):
            daemon.get("/healthz")
        daemon.assert_alive()

    daemon.wait_healthy()
    wait_until(lambda: _greeting(port).startswith(b"220 "), timeout=20, what="the listener")
    logged = [line for line in daemon.stderr.splitlines() if "Too many open files" in line]
    assert len(logged) == 2, logged
    assert "the inbound listener cannot accept connections" in logged[0]
    assert "the web server cannot accept connections" in logged[1]
    assert "Traceback" not in daemon.stderr
    daemon.stop()
