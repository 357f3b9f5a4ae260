"""``newsletter doctor`` as a command: the report, --json, --check and the exit code."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner, Result

from newsletter.cli import cli

from .conftest import write_config

FROM = "nieuwsbrief@gerritvanderheide.nl"


def doctor(config: Path, *args: str, **env: str) -> Result:
    clean = {name: None for name in os.environ if name.startswith("NEWSLETTER_")}
    return CliRunner().invoke(cli, ["--config", str(config), "doctor", *args], env={**clean, **env})


def test_local_checks_in_text_and_json(tmp_path: Path) -> None:
    key = tmp_path / "secret-key"
    key.write_text("k" * 40)
    key.chmod(0o600)
    config = write_config(
        tmp_path / "config.toml",
        {
            "newsletter": {
                "from_address": FROM,
                "secret_key_file": str(key),
                "data_dir": str(tmp_path / "data"),
            }
        },
    )
    result = doctor(config, "--check", "secret_key", "--check", "database")
    # The database was never created: a fail with its fix, so exit 1.
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == f"ok    config      {config} loaded"
    assert lines[1] == "ok    secret_key  40 characters"
    assert lines[2].startswith("fail  database    sqlite:///")
    assert lines[2].endswith("has no schema yet: run `newsletter db upgrade`")
    assert len(lines) == 3

    upgraded = CliRunner().invoke(cli, ["--config", str(config), "db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    key.chmod(0o644)
    result = doctor(config, "--json", "--check", "secret_key", "--check", "database")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [item["check"] for item in report] == ["config", "secret_key", "database"]
    assert [item["status"] for item in report] == ["ok", "warn", "ok"]
    assert report[1]["message"] == (
        f"{key} can be read by other users (mode 0644): chmod 600 {key}"
    )
    assert set(report[0]) == {"check", "status", "message"}


def test_a_short_or_missing_secret_key_fails(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.toml", {"newsletter": {"from_address": FROM}})
    result = doctor(config, "--json", "--check", "secret_key")
    assert result.exit_code == 1
    assert json.loads(result.output)[1]["message"].startswith("no link-signing key: set ")
    result = doctor(config, "--json", "--check", "secret_key", NEWSLETTER_SECRET_KEY="kort")
    assert result.exit_code == 1
    assert json.loads(result.output)[1]["message"].startswith(
        "the link-signing key has 4 characters, fewer than 32:"
    )


def test_a_config_that_does_not_load_is_the_only_finding(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[smtp]\nport = "587"\n')
    result = doctor(config, "--json")
    assert result.exit_code == 1
    assert json.loads(result.output) == [
        {
            "check": "config",
            "status": "fail",
            "message": f"{config}: smtp.port must be an integer, got '587'",
        }
    ]


def test_an_example_sender_fails_the_config_check(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.toml", {"newsletter": {"data_dir": str(tmp_path)}})
    result = doctor(config, "--check", "config")
    assert result.exit_code == 1
    assert result.output.startswith(
        "fail  config      newsletter.from_address is the example address nieuwsbrief@example.org"
    )


def test_a_bad_nameserver_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.toml", {"doctor": {"nameserver": "dns.example:53"}})
    result = doctor(config, "--json")
    assert json.loads(result.output)[0]["message"] == (
        f"{config}: doctor.nameserver must be an IP address with an optional port, like "
        "127.0.0.1:5353 or [::1]:53, got 'dns.example:53'"
    )


def test_without_a_config_file_doctor_says_to_run_init() -> None:
    clean = {name: None for name in os.environ if name.startswith("NEWSLETTER_")}
    result = CliRunner().invoke(cli, ["doctor", "--check", "config"], env=clean)
    assert result.exit_code == 0
    assert result.output.startswith(
        "warn  config      no config file (built-in defaults and environment only): run "
        "`newsletter init DIR`"
    )
