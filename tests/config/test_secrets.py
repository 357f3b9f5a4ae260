"""Secrets: from the environment or a file the config names, never inline, never shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.config import Secret, load_settings
from newsletter.config.secrets import read_secret
from newsletter.errors import ConfigError
from tests.support.settings import config_file


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("[smtp]\npassword = 'hunter2'\n", "NEWSLETTER_SMTP_PASSWORD"),
        ("[newsletter]\nsecret_key = 'hunter2'\n", "NEWSLETTER_SECRET_KEY"),
        ("[dkim]\nprivate_key = 'hunter2'\n", "NEWSLETTER_DKIM_PRIVATE_KEY"),
    ],
)
def test_inline_secrets_are_refused_without_echoing_them(
    tmp_path: Path, text: str, hint: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(config_file(tmp_path, text), environ={})
    assert hint in str(error.value)
    assert "hunter2" not in str(error.value)


def test_secrets_come_from_environment_or_named_file(tmp_path: Path) -> None:
    key_file = tmp_path / "smtp-password"
    key_file.write_text("from-file\n", encoding="utf-8")
    path = config_file(tmp_path, f"[smtp]\npassword_file = '{key_file}'\n")
    settings = load_settings(path, environ={"NEWSLETTER_SECRET_KEY": "s3cret"})
    assert settings.secret_key == Secret("s3cret")
    assert settings.smtp_password is not None
    assert settings.smtp_password.reveal() == "from-file"
    assert "s3cret" not in repr(settings)
    assert "from-file" not in repr(settings)


def test_secrets_never_appear_in_help_or_errors(tmp_path: Path) -> None:
    env = {"NEWSLETTER_SECRET_KEY": "topsecret-value", "NEWSLETTER_SMTP_PASSWORD": "pw-value"}
    runner = CliRunner()
    for args in (["--help"], ["subscribers", "--help"], ["subscribers", "add", "nope"]):
        result = runner.invoke(
            cli, args, env={**env, "NEWSLETTER_DATABASE__URL": f"sqlite:///{tmp_path}/x.db"}
        )
        assert "topsecret-value" not in result.output
        assert "pw-value" not in result.output


def test_a_secret_never_shows_itself_but_compares_by_value() -> None:
    secret = Secret("hunter2")
    assert "hunter2" not in f"{secret!r} {secret!s} {[secret]}"
    assert secret.reveal() == "hunter2"
    assert secret == Secret("hunter2") and secret != Secret("other") and secret != "hunter2"
    assert len({secret, Secret("hunter2")}) == 1


def test_the_variable_wins_over_the_file_and_neither_is_no_secret(tmp_path: Path) -> None:
    named = tmp_path / "key"
    named.write_text("  from-file \n", encoding="utf-8")
    assert read_secret({"VAR": "from-env"}, "VAR", str(named)) == Secret("from-env")
    assert read_secret({"VAR": ""}, "VAR", str(named)) == Secret("from-file")
    assert read_secret({}, "VAR", "") is None


def test_a_secret_file_that_cannot_be_read_is_one_line_without_its_content(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError) as error:
        read_secret({}, "VAR", str(tmp_path / "missing"))
    assert (
        str(error.value)
        == f"cannot read secret file {tmp_path / 'missing'}: No such file or directory"
    )
