"""What every command shares: the settings and the database, each opened on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from newsletter.config import Settings, load_settings

if TYPE_CHECKING:
    from newsletter.db.database import Database


class AppContext:
    def __init__(self, config_path: str | None) -> None:
        self._config_path = config_path
        self._settings: Settings | None = None
        self._database: Database | None = None

    @property
    def config_path(self) -> str | None:
        """The ``--config`` file ($NEWSLETTER_CONFIG included), for a command that loads the
        settings itself (``doctor`` reports a config that does not load as a finding)."""
        return self._config_path

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self._config_path)
        return self._settings

    @property
    def database(self) -> Database:
        if self._database is None:
            # Imported on first use, not above: `newsletter --help` loads this module too,
            # and must not pay for SQLAlchemy and Alembic.
            from newsletter.db.database import open_database

            self._database = open_database(self.settings.database_url)
        return self._database

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()


pass_app = click.make_pass_decorator(AppContext)
