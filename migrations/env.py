"""Alembic environment: runs with the engine the package hands over (``newsletter db upgrade``).

Run by hand (``alembic -c pyproject.toml revision --autogenerate``) it falls back to the
database named by the newsletter configuration.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from newsletter.config import load_settings
from newsletter.db.database import lock_migrations, make_engine
from newsletter.db.models import Base

engine: Engine = context.config.attributes.get("engine") or make_engine(
    load_settings().database_url
)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        lock_migrations(connection)
        context.run_migrations()
    connection.commit()
