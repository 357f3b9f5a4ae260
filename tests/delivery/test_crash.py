"""Crash safety: SIGKILL the sender halfway through 5,000 messages, resume, count.

Nothing may be lost, and only messages that were in flight when the process died (claimed
but not yet recorded, at most two batches) may arrive twice.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from newsletter.db.database import open_database
from newsletter.db.models import Delivery, Subscriber
from newsletter.delivery import editions
from newsletter.delivery.send_loop import SendOptions
from tests.support.db import add_subscribers
from tests.support.posts import add_post
from tests.support.settings import SECRET, SENDER
from tests.support.smtp import SmtpServer
from tests.support.system import NEWSLETTER_SCRIPT, wait_until

RECIPIENTS = 5000
IN_FLIGHT_BOUND = 2 * SendOptions().batch_size
RESUME_TIMEOUT_SECONDS = 60

Newsletter = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def newsletter() -> Iterator[Newsletter]:
    """Run the real command; its output goes to files next to the config.

    Every process started is killed and waited for after the test, whatever happened:
    a resumed send left running after a timeout would finish later and fail another test.
    """
    started: list[subprocess.Popen[bytes]] = []

    def run(config: Path, *args: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, "NEWSLETTER_SECRET_KEY": SECRET}
        with (config.parent / "out.log").open("ab") as out:
            process = subprocess.Popen(
                [str(NEWSLETTER_SCRIPT), "--config", str(config), *args],
                env=env,
                stdout=out,
                stderr=out,
            )
        started.append(process)
        return process

    yield run
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()


def _output(config: Path) -> str:
    return (config.parent / "out.log").read_text(errors="replace")


def _wait_for_exit(process: subprocess.Popen[bytes], config: Path) -> int:
    """The exit code, or a failure that says the resumed send did not finish in time."""
    try:
        return process.wait(timeout=RESUME_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"the resumed send did not finish within {RESUME_TIMEOUT_SECONDS} s\n{_output(config)}"
        )


def test_killed_sender_resumes_without_loss_and_few_duplicates(
    database_url: str, smtp_server: SmtpServer, tmp_path: Path, newsletter: Newsletter
):
    database = open_database(database_url)
    addresses = add_subscribers(database, RECIPIENTS)
    slug = add_post(database)
    database.dispose()
    config = tmp_path / "newsletter.toml"
    config.write_text(
        f"""
[newsletter]
base_url = "https://nieuwsbrief.gerritvanderheide.com"
from_address = "{SENDER}"
[database]
url = "{database_url}"
[smtp]
transport = "smtp"
host = "127.0.0.1"
port = {smtp_server.port}
security = "none"
""",
        encoding="utf-8",
    )

    sender = newsletter(config, "send", slug, "--yes")

    def a_third_sent() -> bool:
        assert sender.poll() is None, _output(config)
        return smtp_server.handler.count() >= RECIPIENTS // 3

    wait_until(a_third_sent, timeout=60, what="a third of the send")
    sender.send_signal(signal.SIGKILL)
    sender.wait()
    received_before_resume = smtp_server.handler.count()
    assert received_before_resume < RECIPIENTS, "killed too late to test anything"

    database = open_database(database_url)
    with database.session() as session:
        (info,) = editions.list_editions(session)
    assert info.status == "sending" and info.counts["sending"] > 0

    resume = newsletter(config, "send", "--resume", str(info.id), "--json")
    assert _wait_for_exit(resume, config) == 0, _output(config)

    received = smtp_server.handler.per_address()
    assert set(received) == set(addresses), "a subscriber was lost"
    duplicates = sum(count - 1 for count in received.values())
    assert duplicates <= IN_FLIGHT_BOUND
    with database.session() as session:
        after = editions.describe_edition(session, info.id)
        recorded = {
            email: message_id
            for email, message_id in session.execute(
                select(Subscriber.email, Delivery.message_id).join(
                    Subscriber, Subscriber.id == Delivery.subscriber_id
                )
            )
        }
    assert after.status == "sent", (after.counts, _output(config))
    assert after.counts["sent"] == RECIPIENTS
    # A copy sent again carries the Message-ID of the first (mail clients fold the two),
    # and the ledger recorded that one.
    seen: dict[str, set[str]] = defaultdict(set)
    for address, raw in smtp_server.handler.messages:
        found = re.search(rb"\r\nMessage-ID: (<[^>\r\n]+>)\r\n", raw)
        assert found is not None
        seen[address].add(found[1].decode())
    assert {address: ids.pop() for address, ids in seen.items() if len(ids) == 1} == recorded
    database.dispose()
