"""The sections of returned mail: the bounce rules and webhooks, and the bounce mailbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import BouncesSection, ImapSection, load_settings
from newsletter.errors import ConfigError
from tests.support.settings import config_file


def test_unreadable_mail_needs_a_folder_of_its_own(tmp_path: Path) -> None:
    path = config_file(
        tmp_path, "[bounces.imap]\nhost = 'h'\nuser = 'u'\nunreadable_folder = 'INBOX'\n"
    )
    with pytest.raises(ConfigError, match=r"bounces\.imap\.unreadable_folder must differ"):
        load_settings(path, environ={"NEWSLETTER_BOUNCES_IMAP_PASSWORD": "geheim"})


def test_soft_bounce_defaults_and_environment():
    settings = load_settings(environ={})
    assert (settings.bounces.soft_limit, settings.bounces.soft_window) == (3, 5)
    settings = load_settings(
        environ={"NEWSLETTER_BOUNCES__SOFT_LIMIT": "2", "NEWSLETTER_BOUNCES__SOFT_WINDOW": "4"}
    )
    assert (settings.bounces.soft_limit, settings.bounces.soft_window) == (2, 4)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("soft_window = 0", "bounces.soft_window must be at least 1"),
        ("soft_limit = 6", "bounces.soft_limit must be between 1 and bounces.soft_window"),
        ("soft_limit = 0", "bounces.soft_limit must be between 1 and bounces.soft_window"),
        ('soft_limit = "3"', "bounces.soft_limit must be an integer, got '3'"),
    ],
)
def test_bad_soft_bounce_keys_are_one_line_errors(tmp_path: Path, toml: str, message: str):
    config = tmp_path / "config.toml"
    config.write_text(f"[bounces]\n{toml}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_settings(config, environ={})
    assert str(error.value) == f"{config}: {message}"


@pytest.mark.parametrize(
    ("section", "key"),
    [
        (BouncesSection(address="bounces+x@example.org"), "address"),
        (BouncesSection(address="bounces"), "address"),
        (BouncesSection(hard_alert_percent=0), "hard_alert_percent"),
        (BouncesSection(complaint_alert_percent=101), "complaint_alert_percent"),
        (BouncesSection(ses_topic_arn="topic"), "ses_topic_arn"),
    ],
)
def test_a_bounces_value_that_makes_no_sense_is_named(section: BouncesSection, key: str) -> None:
    assert [found for found, _ in section.problems()] == [key]


def test_bounces_defaults_and_a_plain_return_address_pass() -> None:
    assert list(BouncesSection().problems()) == []
    assert list(BouncesSection(address="bounces@example.org").problems()) == []


def test_a_mailbox_is_checked_only_when_switched_on(tmp_path: Path) -> None:
    assert list(ImapSection(port=0, user="", processed_folder="INBOX").problems()) == []
    on = ImapSection(host="imap.example.org", ca_file=str(tmp_path / "none.pem"), timeout=0)
    assert [key for key, _ in on.problems()] == ["user", "ca_file", "timeout"]
    same = ImapSection(host="imap.example.org", user="u", processed_folder="INBOX")
    assert [key for key, _ in same.problems()] == ["processed_folder"]
