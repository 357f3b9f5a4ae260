"""The ``newsletter`` command run in-process against one test database, as an admin would.

Click's runner keeps stdout and stderr apart, so a test can assert that an error is one
line on stderr and never a traceback; the terminal is wide so tables do not wrap.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from newsletter.cli import cli

from .settings import SECRET


class NewsletterCli:
    def __init__(self, database_url: str, workdir: Path) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.env = {
            "NEWSLETTER_DATABASE__URL": database_url,
            "NEWSLETTER_SECRET_KEY": SECRET,
            "NEWSLETTER_SMTP__MAILDIR": str(workdir / "outbox"),
            "COLUMNS": "400",
        }

    def __call__(self, *args: str, input: str | bytes | None = None, **env: str) -> Result:
        return CliRunner().invoke(cli, list(args), input=input, env={**self.env, **env})

    def ok(self, *args: str, **env: str) -> str:
        """Run a command that must succeed; its stdout."""
        result = self(*args, **env)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert result.exit_code == 0, result.output
        return result.stdout

    def fails(self, *args: str, code: int = 1, **env: str) -> str:
        """Run a command that must fail with exit ``code`` and one line on stderr."""
        result = self(*args, **env)
        assert result.exit_code == code, result.output
        assert isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in result.output
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
        return result.stderr

    def subscribers(self) -> dict[str, dict[str, object]]:
        """Every subscriber by address, as ``subscribers list --json`` shows them."""
        return {row["email"]: row for row in json.loads(self.ok("subscribers", "list", "--json"))}

    def post_file(self, name: str, text: str) -> Path:
        path = self.workdir / name
        path.write_text(text, encoding="utf-8")
        return path


NOT_FOR_A_QUICK_COMMAND = (
    *("alembic", "aiosmtplib", "dns", "dkim", "httpx", "jinja2", "premailer", "rich"),
    *("markdown_it", "starlette", "uvicorn", "aiosmtpd", "cryptography"),
)
"""What a command that reads or changes a few rows must not load: the migrations, the
delivery engine, DNS, HTTP, the mail builders, tables, the Markdown parser, the web app."""


def imported_by(argv: list[str], env: dict[str, str] | None = None) -> tuple[str, list[str]]:
    """The stdout of ``newsletter ARGV`` run in a fresh interpreter, and what it imported."""
    script = (
        "import sys\n"
        "from newsletter.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "print(' '.join(sys.modules), file=sys.stderr)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return run.stdout, run.stderr.split()
