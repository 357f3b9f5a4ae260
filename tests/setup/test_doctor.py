"""``newsletter doctor`` as a command: the report, --json, --check and the exit code."""

from __future__ import annotations

import json
import os
import stat
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
    result = doctor(
        config, "--json", "--check", "secret_key", "--check", "database", "--check", "file_modes"
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [item["check"] for item in report] == ["config", "secret_key", "database", "file_modes"]
    assert [item["status"] for item in report] == ["ok", "ok", "ok", "warn"]
    assert report[3]["message"] == f"other users can read {key} (mode 0644): chmod 600 {key}"
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


def test_files_others_can_read_are_one_warning_with_the_fix(tmp_path: Path) -> None:
    """The first run makes the data folder and the database for the owner only; a database
    or secret file that others can read (an older set-up, a copied key) is named with the
    command that fixes it."""
    secrets = {
        "secret_key_file": tmp_path / "secret-key",
        "password_file": tmp_path / "smtp-password",
        "private_key_file": tmp_path / "dkim.pem",
        "mailgun_signing_key_file": tmp_path / "mailgun-key",
    }
    for path in secrets.values():
        path.write_text("k" * 40)
        path.chmod(0o600)
    data = tmp_path / "data"
    config = write_config(
        tmp_path / "config.toml",
        {
            "newsletter": {
                "from_address": FROM,
                "data_dir": str(data),
                "secret_key_file": str(secrets["secret_key_file"]),
            },
            "smtp": {"password_file": str(secrets["password_file"])},
            "dkim": {"private_key_file": str(secrets["private_key_file"])},
            "bounces": {"mailgun_signing_key_file": str(secrets["mailgun_signing_key_file"])},
        },
    )
    upgraded = CliRunner().invoke(cli, ["--config", str(config), "db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    database = data / "newsletter.db"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    result = doctor(config, "--check", "file_modes")
    assert result.exit_code == 0, result.output
    checked = ", ".join(map(str, (data, *secrets.values(), database)))
    assert result.output.splitlines()[1:] == [
        f"ok    file_modes  only their owner can read {checked}"
    ]

    database.chmod(0o644)
    secrets["password_file"].chmod(0o640)
    secrets["mailgun_signing_key_file"].chmod(0o604)
    result = doctor(config, "--check", "file_modes")
    assert result.exit_code == 0, result.output  # a warning
    readable = [secrets["password_file"], secrets["mailgun_signing_key_file"], database]
    assert result.output.splitlines()[1:] == [
        f"warn  file_modes  other users can read {readable[0]} (mode 0640), {readable[1]} "
        f"(mode 0604), {readable[2]} (mode 0644): chmod 600 {' '.join(map(str, readable))}"
    ]

    data.chmod(0o755)
    database.chmod(0o600)
    for path in secrets.values():
        path.chmod(0o600)
    result = doctor(config, "--check", "file_modes")
    assert result.output.splitlines()[1:] == [
        f"warn  file_modes  other users can read {data} (mode 0755): chmod 700 {data}"
    ]
