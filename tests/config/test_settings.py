"""The whole configuration: the rules between sections, and what it works out from them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from newsletter.config import (
    BouncesSection,
    DatabaseSection,
    DkimSection,
    ImapSection,
    NewsletterSection,
    Secret,
    Settings,
    SmtpSection,
)
from newsletter.errors import ConfigError


def test_a_feature_switched_on_needs_its_secret() -> None:
    settings = Settings(dkim=DkimSection(domain="example.org", selector="nb"))
    assert list(settings.problems()) == [
        (
            "dkim",
            "private_key_file",
            "or NEWSLETTER_DKIM_PRIVATE_KEY is required when dkim.domain is set",
        )
    ]
    assert list(replace(settings, dkim_private_key=Secret("pem")).problems()) == []


def test_a_bounce_feature_switched_on_needs_its_secret_too() -> None:
    settings = Settings(
        bounces=BouncesSection(postmark_user="relay"),
        bounces_imap=ImapSection(host="imap.example.org", user="u"),
    )
    assert [(section, key) for section, key, _ in settings.problems()] == [
        ("bounces", "postmark_password_file"),
        ("bounces.imap", "password_file"),
    ]


def test_nothing_that_signs_links_runs_without_a_secret_key() -> None:
    for secret in (None, Secret("")):
        with pytest.raises(ConfigError, match="NEWSLETTER_SECRET_KEY"):
            Settings(secret_key=secret).signing_key()
    assert Settings(secret_key=Secret("k")).signing_key() == "k"


def test_paths_and_urls_follow_the_data_folder_unless_set() -> None:
    settings = Settings(newsletter=NewsletterSection(data_dir="/srv/nb"))
    assert settings.database_url == "sqlite:////srv/nb/newsletter.db"
    assert settings.maildir_path == Path("/srv/nb/outbox")
    chosen = replace(
        settings,
        database=DatabaseSection(url="postgresql://db/nb"),
        smtp=SmtpSection(maildir="/var/mail/out"),
    )
    assert chosen.database_url == "postgresql://db/nb"
    assert chosen.maildir_path == Path("/var/mail/out")


@pytest.mark.parametrize(
    ("smtp", "transport"),
    [
        (SmtpSection(), "maildir"),
        (SmtpSection(host="smtp.example.org"), "smtp"),
        (SmtpSection(host="smtp.example.org", transport="maildir"), "maildir"),
        (SmtpSection(transport="smtp"), "smtp"),
    ],
)
def test_auto_transport_means_the_relay_when_one_is_configured(
    smtp: SmtpSection, transport: str
) -> None:
    assert Settings(smtp=smtp).transport == transport


def test_trusted_hosts_follow_a_base_url_changed_later() -> None:
    settings = Settings(newsletter=NewsletterSection(base_url="http://[::1]:18080/"))
    assert settings.trusted_hosts == ("[::1]", "localhost", "127.0.0.1")
    moved = replace(settings, newsletter=NewsletterSection(base_url="https://nb.example.org"))
    assert moved.trusted_hosts[0] == "nb.example.org"


def test_secret_files_are_the_named_ones_only() -> None:
    settings = Settings(
        newsletter=NewsletterSection(secret_key_file="/etc/nb/key"),
        dkim=DkimSection(private_key_file="/etc/nb/dkim.pem"),
    )
    assert settings.secret_files == (Path("/etc/nb/key"), Path("/etc/nb/dkim.pem"))
    assert Settings().secret_files == ()
