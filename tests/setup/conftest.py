"""Helpers of the set-up tests: config files written as a user would, and the report."""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping
from pathlib import Path

from click.testing import CliRunner, Result

from newsletter.cli import cli
from newsletter.setup import doctor


def write_config(path: Path, sections: Mapping[str, Mapping[str, object]]) -> Path:
    """A TOML file of ``sections`` (strings, numbers and booleans are JSON-compatible)."""
    lines: list[str] = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """``newsletter ARGS`` in-process, with no SMTP password from the environment."""
    return CliRunner().invoke(cli, list(args), env={"NEWSLETTER_SMTP_PASSWORD": "", **(env or {})})


def statuses(results: list[doctor.Result]) -> dict[str, str]:
    return {result.check: result.status for result in results}


def message(results: list[doctor.Result], check: str) -> str:
    return next(result.message for result in results if result.check == check)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
