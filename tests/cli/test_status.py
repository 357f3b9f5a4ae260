"""``newsletter status`` (``cli/status.py``) as a person reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsletter.db.database import Database
from tests.support.cli import NewsletterCli


@pytest.fixture
def newsletter(database: Database, database_url: str, tmp_path: Path) -> NewsletterCli:
    """The CLI on a migrated database (``database`` migrates it)."""
    return NewsletterCli(database_url, tmp_path)


def test_status_of_a_new_installation_says_what_to_do(newsletter: NewsletterCli) -> None:
    lines = newsletter.ok("status").splitlines()
    assert lines[0].startswith("next edition: ") and "(Europe/Amsterdam)" in lines[0]
    assert lines[1] == "queue: 0 queued, 0 skipped, 0 sent; next: none (import posts)"
    assert lines[2:5] == ["editions: none yet", "deferred backlog: 0", "daemons running: 0"]
    assert lines[5] == "readers: 0 receiving, 0 paused, 0 without proof of consent"
    assert lines[-1].startswith("warning: the queue is empty")


def test_status_json_is_the_same_report_for_scripts(newsletter: NewsletterCli) -> None:
    report = json.loads(newsletter.ok("status", "--json"))
    assert report["queue"] == {"queued": 0, "skipped": 0, "sent": 0, "next": None}
    assert report["edition"] is None and report["daemons_running"] == 0
    assert report["readers"] == {"receiving": 0, "paused": 0, "without_consent_evidence": 0}
