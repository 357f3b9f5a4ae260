"""``newsletter db``: the schema's revision as an admin reads it, and upgrades that are
safe to run twice (deploy scripts run them on every release)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import NewsletterCli


@pytest.fixture
def newsletter(database_url: str, tmp_path: Path) -> NewsletterCli:
    return NewsletterCli(database_url, tmp_path)


def test_status_of_an_empty_database_asks_for_an_upgrade(newsletter: NewsletterCli) -> None:
    lines = newsletter.ok("db", "status").splitlines()
    assert lines[0].startswith("database: ")
    assert lines[1].startswith("revision: none (empty database) (latest ")
    assert lines[1].endswith("; run `newsletter db upgrade`)")


def test_upgrade_then_again_changes_nothing_the_second_time(newsletter: NewsletterCli) -> None:
    first = newsletter.ok("db", "upgrade")
    assert first.startswith("database upgraded from empty to ")
    head = first.split()[-1]
    assert newsletter.ok("db", "upgrade") == f"database already at the latest revision ({head})\n"
    assert newsletter.ok("db", "status").splitlines()[1] == (
        f"revision: {head} (latest {head}; up to date)"
    )


def test_status_never_shows_the_database_password(tmp_path: Path) -> None:
    newsletter = NewsletterCli(f"sqlite:///{tmp_path}/newsletter.db", tmp_path)
    url = "postgresql://gerrit:geheim-wachtwoord@127.0.0.1:1/nieuwsbrief"
    result = newsletter("db", "status", NEWSLETTER_DATABASE__URL=url)
    assert "geheim-wachtwoord" not in result.output
