"""Loading: defaults < file < environment, and one line naming the key and its place."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.config import load_settings
from newsletter.errors import ConfigError
from tests.support.settings import config_file
from tests.support.system import REPOSITORY


def test_defaults_run_the_demo_without_any_file() -> None:
    settings = load_settings(environ={})
    assert settings.database_url == "sqlite:///data/newsletter.db"
    assert settings.transport == "maildir"
    assert settings.newsletter.signature == "Groet,\nGerrit"
    assert settings.newsletter.language == "nl"
    assert settings.secret_key is None


def test_example_config_loads_as_is() -> None:
    settings = load_settings(REPOSITORY / "config.example.toml", environ={})
    assert settings.source.endswith("config.example.toml")
    assert settings.transport == "maildir"


def test_precedence_defaults_then_file_then_environment(tmp_path: Path) -> None:
    path = config_file(tmp_path, '[newsletter]\nname = "Uit bestand"\n[smtp]\nport = 2525\n')
    settings = load_settings(path, environ={"NEWSLETTER_SMTP__PORT": "2626"})
    assert settings.newsletter.name == "Uit bestand"
    assert settings.smtp.port == 2626
    assert settings.web.port == 8080


def test_config_path_argument_beats_environment_variable(tmp_path: Path) -> None:
    chosen = config_file(tmp_path, '[newsletter]\nname = "Gekozen"\n')
    other = tmp_path / "other.toml"
    other.write_text('[newsletter]\nname = "Ander"\n', encoding="utf-8")
    assert load_settings(chosen, environ={"NEWSLETTER_CONFIG": str(other)}).newsletter.name == (
        "Gekozen"
    )
    assert load_settings(None, environ={"NEWSLETTER_CONFIG": str(other)}).newsletter.name == "Ander"


def test_environment_values_are_converted_to_the_key_type() -> None:
    settings = load_settings(
        environ={
            "NEWSLETTER_SMTP__MAX_PER_SECOND": "12.5",
            "NEWSLETTER_SMTP__CONNECTIONS": "8",
            "NEWSLETTER_DATABASE__URL": "postgresql://x@y/z",
        }
    )
    assert settings.smtp.max_per_second == 12.5
    assert settings.smtp.connections == 8
    assert settings.database_url == "postgresql://x@y/z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[newsletter]\nnaam = 'x'\n", "unknown key newsletter.naam"),
        ("[mail]\nhost = 'x'\n", "unknown section [mail]"),
        ("[smtp]\nport = 'twenty'\n", "smtp.port must be an integer, got 'twenty'"),
        ("[smtp]\nport = true\n", "smtp.port must be an integer"),
        ("[smtp]\nsecurity = 'ssl'\n", "smtp.security must be one of 'starttls', 'tls', 'none'"),
        ("[smtp]\ntransport = 'smtp'\n", "smtp.host is required when smtp.transport is 'smtp'"),
        ("[schedule]\ntimezone = 'Mars/Olympus'\n", "schedule.timezone is not a known IANA"),
        ("[newsletter]\nbase_url = 'example.org'\n", "newsletter.base_url must start with http"),
        ("[newsletter]\nfrom_address = ''\n", "newsletter.from_address is required"),
        ("[dkim]\ndomain = 'example.org'\n", "dkim.selector is required"),
        ("[inbound]\nmax_sessions = 0\n", "inbound.max_sessions must be at least 1"),
        ("[inbound]\ntimeout = 0\n", "inbound.timeout must be more than 0 seconds"),
        ("[smtp\nport = 1\n", "invalid TOML"),
        ("newsletter = 3\n", "[newsletter] must be a table"),
    ],
)
def test_invalid_file_is_one_line_naming_key_and_file(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = config_file(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})
    message = str(error.value)
    assert expected in message
    assert str(path) in message
    assert "\n" not in message


def test_invalid_environment_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"environment variable NEWSLETTER_WEB__PORT: web\.port"):
        load_settings(environ={"NEWSLETTER_WEB__PORT": "eighty"})
    with pytest.raises(ConfigError, match=r"unknown key web\.hots"):
        load_settings(environ={"NEWSLETTER_WEB__HOTS": "x"})


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_cli_config_error_exits_2_without_traceback(tmp_path: Path) -> None:
    path = config_file(tmp_path, "[smtp]\nport = 'x'\n")
    result = CliRunner().invoke(cli, ["--config", str(path), "subscribers", "count"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "smtp.port must be an integer" in result.output
    assert "Traceback" not in result.output


def test_a_wrong_type_is_reported_before_what_a_value_means(tmp_path: Path) -> None:
    path = config_file(tmp_path, "[newsletter]\nbase_url = 'example.org'\n[smtp]\nport = 'x'\n")
    with pytest.raises(ConfigError, match=r"smtp\.port must be an integer"):
        load_settings(path, environ={})


def test_a_sub_table_comes_from_its_own_toml_table_and_its_own_variables(tmp_path: Path) -> None:
    path = config_file(tmp_path, "[bounces.imap]\nhost = 'imap.example.org'\nuser = 'u'\n")
    environ = {"NEWSLETTER_BOUNCES__IMAP__PORT": "1993", "NEWSLETTER_BOUNCES_IMAP_PASSWORD": "pw"}
    settings = load_settings(path, environ=environ)
    assert (settings.bounces_imap.host, settings.bounces_imap.port) == ("imap.example.org", 1993)
    with pytest.raises(ConfigError, match=r"unknown key bounces\.imap\.hots"):
        load_settings(config_file(tmp_path, "[bounces.imap]\nhots = 'x'\n"), environ={})


def test_a_problem_with_a_default_names_the_file_and_other_variables_are_ignored(
    tmp_path: Path,
) -> None:
    """A rule broken by a default (no value of the key anywhere) is the file's as a whole."""
    path = config_file(tmp_path, "[dkim]\ndomain = 'example.org'\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={"NEWSLETTER_NOT_A_KEY": "x", "OTHER__THING": "y"})
    assert str(error.value) == f"{path}: dkim.selector is required when DKIM is configured"
