"""Shared fixtures: a fresh database per test on SQLite and on the machine's PostgreSQL.

PostgreSQL tests get a schema of their own (via ``search_path``), dropped afterwards, so
runs never see each other's rows. When PostgreSQL is unreachable the tests are skipped on
a developer machine but fail under ``CI=true``: CI must prove both databases.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from playwright.sync_api import Browser, sync_playwright

from newsletter.db.database import Database, open_database
from tests.support.schema import (
    Statement,
    copy_sqlite,
    migrate_sqlite_template,
    record_postgres_migrations,
    replay_postgres,
)
from tests.support.system import SCREENSHOTS as SCREENSHOTS  # for older imports

# The toolkit's fixtures (test relay, TLS test CA) for every folder; see tests/support.
pytest_plugins = ["tests.support.fixtures"]

POSTGRES_URL = os.environ.get(
    "NEWSLETTER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI") == "true"


def _postgres_unreachable() -> str | None:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except psycopg.OperationalError as exc:
        return str(exc).strip().splitlines()[0]


# The tests that take ten seconds or more (``--durations``), longest first: those that
# start daemons and processes, a Postfix, a browser, or SpamAssassin (a few seconds of
# its rules each time an edition is checked).
SLOW = (
    "tests/runtime/test_states_add_up.py",
    "tests/runtime/test_daemon.py",
    "tests/delivery/test_relay_limit.py",
    "tests/setup/test_end_to_end.py",
    "tests/runtime/test_shared_limits.py",
    "tests/runtime/test_scale_out.py",
    "tests/cli/test_preview.py",
    "tests/web/owner/test_browser.py",
    "tests/cli/test_posts_fetch.py",
    "tests/delivery/test_publish.py::test_dry_run_shows_the_check",
    "tests/returns/test_parse.py::test_mail_over_the_size_cap_is_unreadable",
    "tests/delivery/test_crash.py",
    "tests/db/test_database.py::test_processes_creating_one_postgresql_schema_at_once_take_turns",
    "tests/runtime/",
    "tests/web/owner/test_actions.py",
    "tests/mail/test_compose.py::test_spliced_equals_built_for_any_name",
    "tests/delivery/test_contents.py",
    "tests/delivery/test_soft_bounces.py",
    "tests/web/test_manage_browser.py",
    "tests/delivery/test_relay_faults.py",
    "tests/cli/test_bounces.py",
    "tests/cli/test_web.py",
    "tests/cli/test_hostile_input.py",
    "tests/mail/test_cards.py",
    "tests/delivery/test_checks.py",
    "tests/cli/test_subscribers.py::test_console_script_runs_with_global_config_option",
)


def _slowness(item: pytest.Item) -> int:
    """The place of the first entry of ``SLOW`` the test is under; the others come last."""
    return next(
        (place for place, prefix in enumerate(SLOW) if item.nodeid.startswith(prefix)),
        len(SLOW),
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first, longest first, so the run ends on short ones.

    Workers that steal each other's queued tests (``--dist worksteal``) finish together
    only when no long test is left for the end; one there keeps a worker busy for its
    whole length while the others are done.
    """
    items.sort(key=_slowness)


@pytest.fixture(scope="session")
def postgres_available() -> None:
    problem = _postgres_unreachable()
    if problem is None:
        return
    if IN_CI:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is unreachable in CI: {problem}")
    pytest.skip(f"PostgreSQL unreachable: {problem}")


@contextmanager
def _fresh_schema() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL schema (by ``search_path``), dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def postgres_url(postgres_available: None) -> Iterator[str]:
    with _fresh_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> str:
    """An empty database, once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/newsletter.db"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrate_sqlite_template(tmp_path_factory.mktemp("template") / "newsletter.db")


@pytest.fixture(scope="session")
def postgres_migration(postgres_available: None) -> list[Statement]:
    with _fresh_schema() as url:
        return record_postgres_migrations(url)


@pytest.fixture
def database(database_url: str, request: pytest.FixtureRequest) -> Iterator[Database]:
    """The database of ``database_url``, migrated (by a copy of the migrated template)."""
    if database_url.startswith("sqlite"):
        copy_sqlite(request.getfixturevalue("sqlite_template"), database_url)
    else:
        with psycopg.connect(database_url) as connection:
            replay_postgres(request.getfixturevalue("postgres_migration"), connection)
    db = open_database(database_url)
    yield db
    db.dispose()


CHROMIUM = Path("/usr/bin/chromium")
# Offline and quiet: no background services, and no name resolution (pages use IP literals).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, driven by Playwright; CI must have it.

    Module scope, not session: Playwright's sync API runs an event loop in this thread
    while it is open, and the async tests of other modules need the thread to themselves.
    """
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing, and CI must run the browser tests")
        pytest.skip(f"{CHROMIUM} is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
