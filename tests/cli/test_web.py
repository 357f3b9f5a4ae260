"""``newsletter web`` as a user starts it: a real process, real ports, a real health check."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from newsletter.mail.tokens import make_token
from tests.support.settings import SECRET
from tests.support.system import free_port, wait_until


def test_newsletter_web_serves_pages_and_the_inbound_listener(tmp_path: Path) -> None:
    web_port, inbound_port = free_port(), free_port()
    database_url = f"sqlite:///{tmp_path}/newsletter.db"
    environment = {
        **os.environ,
        "NEWSLETTER_SECRET_KEY": SECRET,
        "NEWSLETTER_DATABASE__URL": database_url,
        "NEWSLETTER_NEWSLETTER__DATA_DIR": str(tmp_path),
        "NEWSLETTER_INBOUND__ENABLED": "true",
        "NEWSLETTER_INBOUND__PORT": str(inbound_port),
    }
    command = "from newsletter.cli import main; main()"
    process = subprocess.Popen(
        [sys.executable, "-c", command, "web", "--host", "127.0.0.1", "--port", str(web_port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        answers: list[httpx.Response] = []

        def answered() -> bool:
            assert process.poll() is None, process.communicate()[0].decode()
            try:
                answers.append(httpx.get(f"http://127.0.0.1:{web_port}/healthz", timeout=1))
            except httpx.TransportError:
                return False
            return True

        wait_until(answered, timeout=20, what="newsletter web")
        health = answers[0]
        assert health.status_code == 200
        assert health.json() == {"database": "ok"}
        assert "server" not in health.headers

        unknown = httpx.get(
            f"http://127.0.0.1:{web_port}/unsubscribe/{make_token(SECRET, 'unsubscribe', 1)}"
        )
        assert unknown.status_code == 200 and "Je bent afgemeld" in unknown.text
        with socket.create_connection(("127.0.0.1", inbound_port), timeout=5) as smtp:
            assert smtp.recv(1024).startswith(b"220 ")
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=20)[0].decode()
    assert process.returncode == 0, output
    assert f"mailto: unsubscribe listener on 127.0.0.1:{inbound_port}" in output
