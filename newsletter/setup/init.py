"""``newsletter init DIR``: the files a working set-up is made of, planned and written.

The questions are :mod:`newsletter.setup.questions` and the text of each file
:mod:`newsletter.setup.files`; :func:`plan` puts them together with the keys and the DNS
records, and nothing is written until :func:`write`. It refuses to overwrite anything
without ``force``, writes secrets with mode 0600, and never replaces an existing
link-signing or DKIM key: those are kept and reused, because a new link key breaks the
unsubscribe link of every mail already sent and a new DKIM key fails until DNS has the
new record. Every file is a new file renamed over the old: init may run as root in a
folder others can write to, and a link planted at a name must not carry the SMTP password
elsewhere. For the same reason only a regular file counts as a key to keep; a link is
replaced.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.config import load_settings
from newsletter.errors import InputError
from newsletter.files import make_private_folder, write_file
from newsletter.setup.files import (
    CADDYFILE,
    CONFIG,
    DATA,
    DKIM_KEY,
    RECORDS,
    SECRET_KEY,
    SMTP_PASSWORD,
    UNIT,
    caddy_text,
    config_text,
    records_text,
    unit_text,
)
from newsletter.setup.records import (
    DnsRecord,
    bounce_mx_note,
    dkim_record,
    dmarc_record,
    domain_of,
    generate_dkim_key,
    spf_record,
)

SECRET_BYTES = 32


@dataclass(frozen=True)
class PlannedFile:
    name: str
    text: str
    mode: int = 0o644
    keep_existing: bool = False
    """A key: an existing one is reused, never replaced (see the module docstring)."""


@dataclass
class Plan:
    directory: Path
    answers: Mapping[str, str]
    files: list[PlannedFile] = field(default_factory=list)
    records: list[DnsRecord] = field(default_factory=list)


def plan(
    directory: Path,
    answers: Mapping[str, str],
    *,
    executable: str,
    user: str,
    smtp_password: str = "",
    existing_dkim_key: str | None = None,
) -> Plan:
    """Every file of the set-up and the DNS records, as text; nothing is written."""
    directory = directory.resolve()
    result = Plan(directory, answers)
    dkim_key = ""
    if answers["dkim_selector"]:
        dkim_key = existing_dkim_key or generate_dkim_key()
        result.files.append(PlannedFile(DKIM_KEY, dkim_key, 0o600, keep_existing=True))
    result.files.append(
        PlannedFile(SECRET_KEY, secrets.token_urlsafe(SECRET_BYTES) + "\n", 0o600, True)
    )
    if smtp_password:
        result.files.append(PlannedFile(SMTP_PASSWORD, smtp_password + "\n", 0o600))
    result.files.append(PlannedFile(CONFIG, config_text(directory, answers, bool(smtp_password))))
    result.files.append(PlannedFile(UNIT, unit_text(directory, executable, user)))
    result.files.append(PlannedFile(CADDYFILE, caddy_text(answers["base_url"])))
    domain = domain_of(answers["from_address"])
    result.records.append(spf_record(domain, answers["smtp_host"]))
    if dkim_key:
        result.records.append(dkim_record(domain, answers["dkim_selector"], dkim_key))
    result.records.append(dmarc_record(domain, answers["from_address"]))
    bounce_domain = domain_of(answers.get("bounce_address", ""))
    if bounce_domain:
        if bounce_domain != domain:
            result.records.append(spf_record(bounce_domain, answers["smtp_host"]))
        result.records.append(bounce_mx_note(bounce_domain, answers["bounce_address"]))
    result.files.append(PlannedFile(RECORDS, records_text(result.records)))
    return result


def existing(result: Plan) -> list[Path]:
    """Names of the plan taken already, by a file or a link (keys that will be kept are not
    counted)."""
    paths = [result.directory / planned.name for planned in result.files]
    return [
        path
        for planned, path in zip(result.files, paths, strict=True)
        if os.path.lexists(path) and not _kept(planned, path)
    ]


def _kept(planned: PlannedFile, path: Path) -> bool:
    """A key that is there already, to be reused."""
    return planned.keep_existing and _is_regular_file(path)


def _is_regular_file(path: Path) -> bool:
    """A file in its own right: not a link (see the module docstring), a folder or a pipe."""
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except FileNotFoundError:
        return False


def write(result: Plan, *, force: bool) -> list[tuple[Path, str]]:
    """Write the plan; (path, what happened) per file. Nothing is written when a file is
    there already and ``force`` is not given."""
    present = existing(result)
    if present and not force:
        names = ", ".join(str(path) for path in present)
        raise InputError(f"{names} already exist; pass --force to overwrite (keys are kept)")
    result.directory.mkdir(parents=True, exist_ok=True)
    make_private_folder(result.directory / DATA)
    done: list[tuple[Path, str]] = []
    for planned in result.files:
        path = result.directory / planned.name
        if _kept(planned, path):
            done.append((path, "kept"))
            continue
        write_file(path, planned.text, planned.mode)
        done.append((path, f"written ({planned.mode:04o})"))
    # The config must load as written; a failure here is a bug of init, said plainly.
    load_settings(result.directory / CONFIG, environ={})
    return done


def read_existing_dkim_key(directory: Path) -> str | None:
    """The DKIM key init keeps (a regular file, not a link)."""
    path = directory / DKIM_KEY
    return path.read_text(encoding="ascii") if _is_regular_file(path) else None
