"""``newsletter doctor``: every check of a set-up, each ``ok``, ``warn`` or ``fail`` with a fix.

The checks are a registry (:data:`CHECKS`, in the order they are reported): a check is a
function of the set-up (a ``Checkup``) that returns a ``Finding``, or None when it does not
apply to this set-up (it is then left out of the report). ``config`` is not in the
registry: without settings nothing else can be checked, so a configuration that does not
load is the only finding.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from newsletter.config import Settings, load_settings
from newsletter.db.database import (
    Database,
    current_revision,
    database_file,
    head_revision,
    make_engine,
    parse_url,
)
from newsletter.db.events import DOCTOR_EVENT, record_event
from newsletter.errors import ConfigError, NewsletterError
from newsletter.files import PRIVATE_FILE, PRIVATE_FOLDER
from newsletter.setup import dnscheck, feedcheck, relay, webcheck
from newsletter.setup.checkup import Checkup, Finding, Status

MIN_SECRET_KEY_CHARS = 32


@dataclass(frozen=True)
class Result:
    """One line of the report; ``as_dict`` is the JSON object of ``doctor --json``."""

    check: str
    status: Status
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"check": self.check, "status": self.status, "message": self.message}


Check = Callable[[Checkup], Finding | None]


def check_secret_key(checkup: Checkup) -> Finding:
    settings = checkup.settings
    if settings.secret_key is None or not settings.secret_key.reveal():
        return Finding(
            "fail",
            "no link-signing key: set NEWSLETTER_SECRET_KEY or newsletter.secret_key_file "
            "(`newsletter init` writes one)",
        )
    length = len(settings.secret_key.reveal())
    if length < MIN_SECRET_KEY_CHARS:
        return Finding(
            "fail",
            f"the link-signing key has {length} characters, fewer than {MIN_SECRET_KEY_CHARS}: "
            "make one with `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'` "
            "(links in mails already sent stop working)",
        )
    return Finding("ok", f"{length} characters")


def check_database(checkup: Checkup) -> Finding:
    engine = make_engine(checkup.settings.database_url)
    shown = engine.url.render_as_string()
    try:
        current, head = current_revision(engine), head_revision(engine)
    except Exception as exc:  # any driver's "cannot connect", reported as one line
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return Finding("fail", f"cannot reach {shown}: {reason}; check database.url")
    finally:
        engine.dispose()
    if current is None:
        return Finding("fail", f"{shown} has no schema yet: run `newsletter db upgrade`")
    if current != head:
        return Finding(
            "fail",
            f"{shown} is at revision {current}, this version needs {head}: back up the "
            "database, then run `newsletter db upgrade`",
        )
    return Finding("ok", f"{shown} at the latest revision ({head})")


def check_file_modes(checkup: Checkup) -> Finding | None:
    """Other users of the machine must not read the subscribers, the mails or the secrets:
    the data folder, the SQLite database and every secret file the config names are the
    owner's alone. This version makes them so; a set-up made by an older one, or a key
    copied in by hand, may not be."""
    settings = checkup.settings
    database = database_file(parse_url(settings.database_url))
    files = (*settings.secret_files, *([database] if database else []))
    wanted = {settings.data_dir: PRIVATE_FOLDER, **dict.fromkeys(files, PRIVATE_FILE)}
    modes = {path: mode for path in wanted if (mode := _mode(path)) is not None}
    if not modes:
        return None
    readable = [path for path, mode in modes.items() if mode & 0o077]
    if not readable:
        return Finding("ok", f"only their owner can read {', '.join(map(str, modes))}")
    named = ", ".join(f"{path} (mode {modes[path]:04o})" for path in readable)
    fixes = " && ".join(
        f"chmod {mode:o} {' '.join(str(path) for path in readable if wanted[path] == mode)}"
        for mode in dict.fromkeys(wanted[path] for path in readable)
    )
    return Finding("warn", f"other users can read {named}: {fixes}")


def _mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None


# Name and check, in the order of the report. Checks of other parts of a set-up (a bounce
# domain's MX, the feeds) are one function and one line here.
CHECKS: tuple[tuple[str, Check], ...] = (
    ("secret_key", check_secret_key),
    ("database", check_database),
    ("file_modes", check_file_modes),
    ("relay", relay.check_relay),
    ("spf", dnscheck.check_spf),
    ("dkim", dnscheck.check_dkim),
    ("dmarc", dnscheck.check_dmarc),
    ("bounce_mx", dnscheck.check_bounce_mx),
    ("base_url", webcheck.check_base_url),
    ("feeds", feedcheck.check_feeds),
)


def check_config(settings: Settings) -> Finding:
    if settings.source == "built-in defaults":
        return Finding(
            "warn",
            "no config file (built-in defaults and environment only): run `newsletter init DIR` "
            "and pass --config DIR/config.toml or set NEWSLETTER_CONFIG",
        )
    domain = settings.newsletter.from_address.rpartition("@")[2].lower()
    if domain in {"example.org", "example.com", "example.net"}:
        return Finding(
            "fail",
            f"newsletter.from_address is the example address {settings.newsletter.from_address}:"
            " set the address you send from",
        )
    return Finding("ok", f"{settings.source} loaded")


NAMES = ("config", *(name for name, _ in CHECKS))


def run(
    config_path: str | os.PathLike[str] | None,
    environ: Mapping[str, str] | None = None,
    only: Collection[str] = (),
) -> list[Result]:
    """Every check (or those named in ``only``, config always), in order; never raises for
    what it finds."""
    try:
        settings = load_settings(config_path, environ)
    except ConfigError as exc:
        return [Result("config", "fail", str(exc))]
    config = check_config(settings)
    results = [Result("config", config.status, config.message)]
    checkup = Checkup(settings)
    for name, check in CHECKS:
        if only and name not in only:
            continue
        finding = _verdict(lambda check=check: check(checkup))  # type: ignore[misc]
        if finding is not None:
            results.append(Result(name, *finding))
    return results


def _verdict(run_check: Callable[[], Finding | None]) -> tuple[Status, str] | None:
    """The check's finding; an error it raises on purpose is its failure."""
    try:
        finding = run_check()
    except NewsletterError as exc:
        finding = Finding("fail", str(exc))
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        finding = Finding("fail", f"{exc.strerror or exc}{where}")
    if finding is None:
        return None
    return finding.status, finding.message


def failed(results: list[Result]) -> bool:
    return any(result.status == "fail" for result in results)


def record(database: Database, results: list[Result]) -> None:
    """Keep what a full run found as an event, so the owner's page can show the last one."""
    with database.session() as session:
        record_event(
            session,
            DOCTOR_EVENT,
            "cli",
            failed=[result.check for result in results if result.status == "fail"],
            warned=[result.check for result in results if result.status == "warn"],
        )
