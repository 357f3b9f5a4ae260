"""The soft-bounce keys: defaults, TOML and environment, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import load_settings
from newsletter.errors import ConfigError


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
