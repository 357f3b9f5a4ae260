"""cli/context: a command pays only for what it uses, and what it opened is closed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from newsletter.cli.context import AppContext
from newsletter.errors import ConfigError


def test_nothing_is_read_until_a_command_asks(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    app = AppContext(str(missing))  # `newsletter --help` makes one too: it must not fail
    assert app.config_path == str(missing)
    with pytest.raises(ConfigError):
        app.settings  # noqa: B018 (loads)
    app.close()  # nothing was opened, nothing to close


def test_the_database_is_opened_once_and_closed_with_the_context(
    database_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "newsletter.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n', encoding="utf-8")
    app = AppContext(str(config))
    assert app.settings is app.settings
    database = app.database
    assert app.database is database
    with database.session() as session:
        assert session.scalar(text("SELECT 1")) == 1
    assert database.engine.pool.checkedin() == 1
    app.close()
    assert database.engine.pool.checkedin() == 0
