"""setup/files: the text of each file ``init`` writes; the config reads back as answered."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from newsletter.config import load_settings
from newsletter.setup.files import SECRET_KEY, caddy_text, config_text

ANSWERS = {
    "from_name": 'Gerrit "de Schrijver" van der Heide \\ Zoë',
    "from_address": "nieuwsbrief@gerritvanderheide.nl",
    "base_url": "https://nieuwsbrief.gerritvanderheide.nl",
    "feed": "https://gerritvanderheide.nl/feed/ https://gerritvanderheide.nl/en/feed/",
    "smtp_host": "smtp.mailrelay.nl",
    "smtp_port": "465",
    "smtp_user": "gerrit",
    "timezone": "Europe/Brussels",
    "send_at": "30 18 * * fri",
    "dkim_selector": "",
    "bounce_address": "",
}


def test_the_config_reads_back_as_answered_quotes_and_all(tmp_path: Path) -> None:
    (tmp_path / SECRET_KEY).write_text("s" * 64, encoding="ascii")
    config = tmp_path / "config.toml"
    text = config_text(tmp_path, ANSWERS, password_file=False)
    config.write_text(text, encoding="utf-8")
    settings = load_settings(config, environ={})
    # Written out (true is also the default) so the owner sees where to turn it off.
    assert tomllib.loads(text)["owner"] == {"weekly_report": True}
    assert settings.newsletter.from_name == ANSWERS["from_name"]
    assert settings.newsletter.signature == f"Groet,\n{ANSWERS['from_name']}"
    assert settings.newsletter.list_id == "nieuwsbrief.gerritvanderheide.nl"
    assert settings.posts.feeds == tuple(ANSWERS["feed"].split())
    assert (settings.smtp.host, settings.smtp.port, settings.smtp.security) == (
        "smtp.mailrelay.nl",
        465,
        "tls",
    )
    assert settings.schedule.cron == "30 18 * * fri"
    assert settings.dkim.selector == ""
    assert settings.bounces.address == ""


@pytest.mark.parametrize(
    ("base_url", "site"),
    [
        # Caddy gets the certificate for an https site named without its scheme.
        ("https://nb.example.nl", "nb.example.nl {\n\treverse_proxy 127.0.0.1:8080\n}\n"),
        (
            "http://nb.example.nl/brief",
            "http://nb.example.nl {\n"
            "\thandle_path /brief/* {\n\t\treverse_proxy 127.0.0.1:8080\n\t}\n}\n",
        ),
    ],
)
def test_caddy_serves_the_base_url_under_its_path(base_url: str, site: str) -> None:
    comments, _, block = caddy_text(base_url).rpartition("caddy\n")
    assert comments.startswith("# Caddy")
    assert block == site
