"""The README's run command, exactly as ``make demo`` runs it, on a fresh machine.

``.venv/bin/newsletter run --demo`` in an empty directory, with no configuration and no
secret key: within half a minute a real email is in ``data/outbox/new/``, and the
unsubscribe link the command prints works against the web app it is serving.
"""

from __future__ import annotations

import email
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import urllib.request
from email import policy
from email.message import EmailMessage
from pathlib import Path

from newsletter.db import subscribers
from newsletter.db.database import open_database
from newsletter.db.models import SubscriberStatus
from tests.support.daemons import STOP_DEADLINE_SECONDS
from tests.support.system import NEWSLETTER_SCRIPT, free_port, wait_until

MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"
DEMO_READER = "lezer@example.org"
UNSUBSCRIBE_LINE = re.compile(r"^demo: unsubscribe link: (\S+)$", re.MULTILINE)


def request(url: str, *, post: bool = False) -> tuple[int, str]:
    data = b"" if post else None
    with urllib.request.urlopen(url, data=data, timeout=10) as response:
        return int(response.status), response.read().decode("utf-8")


def parts(message: EmailMessage) -> dict[str, str]:
    found = {}
    for part in message.walk():
        if not part.is_multipart():
            assert isinstance(part, EmailMessage)
            found[part.get_content_type()] = str(part.get_content())
    return found


def test_make_demo_command_mails_the_outbox_and_its_unsubscribe_link_works(
    tmp_path: Path,
) -> None:
    demo_recipe = MAKEFILE.read_text(encoding="utf-8").split("\ndemo:", 1)[1].splitlines()[1]
    assert demo_recipe.strip() == "$(BIN)/newsletter run --demo", "this test runs that command"
    assert NEWSLETTER_SCRIPT.parent.name == "bin"
    workdir = tmp_path / "fresh"
    workdir.mkdir()
    web_port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    environment["NEWSLETTER_WEB__PORT"] = str(web_port)
    stdout_path, stderr_path = workdir.parent / "demo.out", workdir.parent / "demo.err"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        demo = subprocess.Popen(
            [str(NEWSLETTER_SCRIPT), "run", "--demo"],
            cwd=workdir,
            env=environment,
            stdout=out,
            stderr=err,
        )

    def output() -> str:
        return f"{stdout_path.read_text()}\n{stderr_path.read_text()}"

    try:
        outbox = workdir / "data" / "outbox" / "new"

        def mailed_and_printed() -> bool:
            assert demo.poll() is None, f"the demo exited with {demo.returncode}\n{output()}"
            printed = UNSUBSCRIBE_LINE.search(stdout_path.read_text()) is not None
            return printed and any(outbox.glob("*"))

        wait_until(mailed_and_printed, timeout=30, what=f"the demo email\n{output()}")
        (mail_file,) = outbox.iterdir()
        # Other local users can read none of it: the data folder, the database and the
        # files SQLite makes beside it, the key, the outbox and its mail.
        data = workdir / "data"
        private = {path: stat.S_IMODE(path.stat().st_mode) for path in (data, *data.rglob("*"))}
        assert {path.name for path in private} >= {
            "newsletter.db",
            "newsletter.db-wal",
            "newsletter.db-shm",
            "demo-secret-key",
            "outbox",
            "new",
            mail_file.name,
        }
        assert {path: mode for path, mode in private.items() if mode & 0o077} == {}
        message = email.message_from_bytes(mail_file.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        assert message.get_content_type() == "multipart/alternative"
        assert DEMO_READER in message["To"]
        bodies = parts(message)
        text, html = bodies["text/plain"], bodies["text/html"]
        assert text.count("Groet,\nGerrit") == 1, text
        assert text.count("Groet,") == 1
        assert html.count("Groet,<br>Gerrit") == 1
        assert html.count("Groet,") == 1

        match = UNSUBSCRIBE_LINE.search(stdout_path.read_text())
        assert match is not None
        link = match.group(1)
        assert link.startswith(f"http://127.0.0.1:{web_port}/unsubscribe/"), link
        assert link in text, "the printed link is the one in the email"
        assert f"<{link}>" in message["List-Unsubscribe"]

        def web_app_answers() -> bool:
            assert demo.poll() is None, f"the demo exited with {demo.returncode}\n{output()}"
            try:
                return request(f"http://127.0.0.1:{web_port}/healthz")[0] == 200
            except OSError:
                return False

        # The demo prints the link just before its web server starts listening.
        wait_until(web_app_answers, timeout=30, what=f"the demo's web app\n{output()}")
        status, page = request(link)
        assert status == 200
        assert '<html lang="nl"' in page
        assert "Ja, meld me af" in page
        status, page = request(link, post=True)
        assert status == 200
        assert "Je bent afgemeld" in page

        database = open_database(f"sqlite:///{workdir / 'data' / 'newsletter.db'}")
        try:
            with database.session() as session:
                reader = subscribers.find(session, DEMO_READER)
                assert reader is not None
                assert reader.status == SubscriberStatus.UNSUBSCRIBED
        finally:
            database.dispose()

        demo.send_signal(signal.SIGTERM)
        assert demo.wait(timeout=STOP_DEADLINE_SECONDS) == 0, output()
    finally:
        if demo.poll() is None:
            demo.kill()
        demo.wait()


def test_a_busy_web_port_stops_the_demo_before_anything_is_sent(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
        run = subprocess.run(
            [str(Path(sys.executable).with_name("newsletter")), "run", "--demo"],
            cwd=tmp_path,
            env={**env, "NEWSLETTER_WEB__PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert run.returncode == 2
    assert f"web.port {port}" in run.stderr and "NEWSLETTER_WEB__PORT" in run.stderr
    assert "Traceback" not in run.stderr
    assert not list((tmp_path / "data" / "outbox").glob("new/*"))
