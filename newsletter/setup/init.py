"""``newsletter init DIR``: the questions, and the files a working set-up is made of.

The questions are data (:data:`QUESTIONS`): the CLI asks them with Rich prompts or takes
them from flags, and every answer is checked by the same function either way, so a
script and a person get the same one-line refusal. The files are plain text made from
the answers (:func:`plan`); :func:`write` refuses to overwrite anything without
``force``, writes secrets with mode 0600, and never replaces an existing link-signing
or DKIM key: those are kept and reused, because a new link key breaks the unsubscribe
link of every mail already sent and a new DKIM key fails until DNS has the new record.
Every file is a new file renamed over the old: init may run as root in a folder others
can write to, and a link planted at a name must not carry the SMTP password elsewhere.
For the same reason only a regular file counts as a key to keep; a link is replaced.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsletter.config import ScheduleSection, hide_password, load_settings
from newsletter.content.classify import clean_display_name
from newsletter.db.subscribers import normalise_address
from newsletter.errors import ConfigError, InputError
from newsletter.private_files import make_private_folder, write_file
from newsletter.scheduling.slots import make_trigger
from newsletter.setup.records import (
    DnsRecord,
    bounce_mx_note,
    dkim_record,
    dmarc_record,
    domain_of,
    generate_dkim_key,
    spf_record,
)

CONFIG = "config.toml"
SECRET_KEY = "secret-key"  # noqa: S105 (a file name)
DKIM_KEY = "dkim-private.pem"
SMTP_PASSWORD = "smtp-password"  # noqa: S105 (a file name)
UNIT = "newsletter.service"
CADDYFILE = "Caddyfile"
RECORDS = "dns-records.txt"
DATA = "data"
WEB_PORT = 8080
SECRET_BYTES = 32
NO_DKIM = ("", "none", "-")


@dataclass(frozen=True)
class Question:
    """One answer of the set-up: its flag is ``--`` + ``key`` with dashes."""

    key: str
    prompt: str
    default: Callable[[Mapping[str, str]], str]
    check: Callable[[str, Mapping[str, str]], str]
    """Returns the answer as it is stored, or raises InputError saying what is wrong."""
    multiple: bool = False
    """A list (``--feed`` given once per feed); stored as one string, separated by spaces."""

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")


def _name(value: str, _answers: Mapping[str, str]) -> str:
    name = clean_display_name(value)
    if not name or any(c in name for c in '<>"'):
        raise InputError("a name of one line without < > or quotes is needed")
    return name


def _address(value: str, _answers: Mapping[str, str]) -> str:
    return normalise_address(value)


def _base_url(value: str, _answers: Mapping[str, str]) -> str:
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{url!r} is not an address like https://nieuwsbrief.example.org")
    if parts.query or parts.fragment:
        raise InputError(f"{url!r} must not have a query or fragment")
    return url


_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9-]{1,63}$")


def _host(value: str, _answers: Mapping[str, str]) -> str:
    host = value.strip().lower().rstrip(".")
    if host and not _HOST.match(host):
        raise InputError(f"{value!r} is not a host name (give the port separately)")
    return host


def _port(value: str, _answers: Mapping[str, str]) -> str:
    try:
        port = int(value)
    except ValueError:
        raise InputError(f"{value!r} is not a port number") from None
    if not 0 < port <= 65535:
        raise InputError(f"{port} is not between 1 and 65535")
    return str(port)


def _user(value: str, _answers: Mapping[str, str]) -> str:
    user = value.strip()
    if any(c.isspace() for c in user):
        raise InputError("a user name has no spaces")
    return user


def _timezone(value: str, _answers: Mapping[str, str]) -> str:
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"{value!r} is not an IANA time zone like Europe/Amsterdam") from None
    return value.strip()


def _send_at(value: str, answers: Mapping[str, str]) -> str:
    cron = " ".join(value.split())
    try:
        make_trigger(ScheduleSection(cron=cron, timezone=answers.get("timezone", "UTC")))
    except ConfigError as exc:
        raise InputError(str(exc)) from None
    return cron


def _selector(value: str, _answers: Mapping[str, str]) -> str:
    selector = value.strip().lower()
    if selector in NO_DKIM:
        return ""
    if not re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", selector):
        raise InputError(f"{value!r} is not a DKIM selector (letters, digits and dashes)")
    return selector


def _bounce_address(value: str, _answers: Mapping[str, str]) -> str:
    if not value.strip():
        return ""
    address = normalise_address(value)
    if "+" in address.partition("@")[0]:
        raise InputError(
            f"{address!r} has a '+': give the plain address (bounces@example.org); each "
            "message's return path adds +TOKEN itself"
        )
    return address


def _feeds(value: str, _answers: Mapping[str, str]) -> str:
    urls = value.split()
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(
                f"{hide_password(url)!r} is not a feed address like https://www.example.org/feed/"
            )
    return " ".join(urls)


def feeds_of(answers: Mapping[str, str]) -> list[str]:
    """The feed URLs of the answers (one string, separated by spaces)."""
    return answers.get("feed", "").split()


def _from_domain(answers: Mapping[str, str]) -> str:
    return domain_of(answers.get("from_address", "")) or "example.org"


# In the order they are asked; a default may use the answers before it.
QUESTIONS: tuple[Question, ...] = (
    Question("from_name", "Your name, as readers see it in their inbox", lambda a: "Gerrit", _name),
    Question(
        "from_address",
        "The address the newsletter comes from (of a domain whose DNS you can change)",
        lambda a: "nieuwsbrief@gerritvanderheide.com",
        _address,
    ),
    Question(
        "base_url",
        "The public https address of the newsletter's pages (unsubscribe, sign-up, archive)",
        lambda a: f"https://nieuwsbrief.{_from_domain(a)}",
        _base_url,
    ),
    Question(
        "feed",
        "The feed of your blog, whose new posts fill the edition (several: separate them by "
        "spaces; empty: you add posts by hand)",
        lambda a: "",
        _feeds,
        multiple=True,
    ),
    Question(
        "smtp_host",
        "Your mail provider's SMTP server (empty: none yet, mail goes to a local folder)",
        lambda a: "",
        _host,
    ),
    Question("smtp_port", "Its port (587: STARTTLS, 465: TLS)", lambda a: "587", _port),
    Question(
        "smtp_user",
        "The user name for that server (empty: it needs no login)",
        lambda a: a.get("from_address", "") if a.get("smtp_host") else "",
        _user,
    ),
    Question("timezone", "The time zone of the send time", lambda a: "Europe/Amsterdam", _timezone),
    Question(
        "send_at",
        "When the weekly edition goes out ('mon 07:00' or a crontab line)",
        lambda a: "mon 07:00",
        _send_at,
    ),
    Question(
        "dkim_selector",
        "DKIM selector: the newsletter signs its mail with a key of its own ('none': your "
        "provider signs)",
        lambda a: "nieuwsbrief",
        _selector,
    ),
    Question(
        "bounce_address",
        "The address bounces come back to, of a domain with a mailbox (each message's return "
        "path becomes bounces+TOKEN@...; empty: off)",
        lambda a: "",
        _bounce_address,
    ),
)


def answer(question: Question, value: str, answers: Mapping[str, str]) -> str:
    """The checked answer; the error names the flag, so a script's author finds it."""
    try:
        return question.check(value, answers)
    except InputError as exc:
        raise InputError(f"{question.flag}: {exc}") from None


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


def _toml(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def config_text(directory: Path, answers: Mapping[str, str], password_file: bool) -> str:
    domain = domain_of(answers["from_address"])
    name = answers["from_name"]
    signature = f"Groet,\n{name}"
    lines = [
        f"# Written by `newsletter init` on {datetime.now(UTC):%Y-%m-%d}. Every key is explained",
        "# in config.example.toml. Secrets live in the files named here (mode 0600), or in",
        "# NEWSLETTER_SECRET_KEY, NEWSLETTER_SMTP_PASSWORD and NEWSLETTER_DKIM_PRIVATE_KEY.",
        "",
        "[newsletter]",
        f"name = {_toml(f'Nieuwsbrief van {name}')}",
        f"from_name = {_toml(name)}",
        f"from_address = {_toml(answers['from_address'])}",
        f"base_url = {_toml(answers['base_url'])}",
        f"list_id = {_toml(f'nieuwsbrief.{domain}')}",
        f"signature = {_toml(signature)}",
        f"data_dir = {_toml(str(directory / DATA))}",
        f"secret_key_file = {_toml(str(directory / SECRET_KEY))}",
        "",
        "[database]",
        '# Empty: SQLite in data_dir. PostgreSQL: "postgresql://newsletter@localhost/newsletter"',
        'url = ""',
        "",
        "[smtp]",
    ]
    if answers["smtp_host"]:
        port = int(answers["smtp_port"])
        lines += [
            f"host = {_toml(answers['smtp_host'])}",
            f"port = {port}",
            f"security = {_toml('tls' if port == 465 else 'starttls')}",
            f"username = {_toml(answers['smtp_user'])}",
        ]
        if password_file:
            lines.append(f"password_file = {_toml(str(directory / SMTP_PASSWORD))}")
    else:
        lines.append("# No relay yet: mail goes to data/outbox. Set host, port and username.")
        lines.append('host = ""')
    lines += [
        "",
        "[schedule]",
        f"cron = {_toml(answers['send_at'])}",
        f"timezone = {_toml(answers['timezone'])}",
        "",
        "[posts]",
        "# The blog's feeds, polled for new posts; empty: posts are added by hand.",
        f"feeds = [{', '.join(_toml(url) for url in feeds_of(answers))}]",
        "",
        "[web]",
        "# The Caddyfile next to this file forwards base_url here; Caddy connects from",
        "# 127.0.0.1 and names the visitor in X-Forwarded-For.",
        'host = "127.0.0.1"',
        f"port = {WEB_PORT}",
        'trusted_proxies = ["127.0.0.1"]',
        "",
        "[dkim]",
    ]
    if answers["dkim_selector"]:
        lines += [
            f"domain = {_toml(domain)}",
            f"selector = {_toml(answers['dkim_selector'])}",
            f"private_key_file = {_toml(str(directory / DKIM_KEY))}",
        ]
    else:
        lines.append("# Not signing: the relay signs (domain, selector, private_key_file)")
    lines += ["", "[bounces]"]
    if answers.get("bounce_address"):
        lines.append(f"address = {_toml(answers['bounce_address'])}")
    else:
        lines.append('# Off: the return path is from_address. address = "bounces@DOMAIN"')
        lines.append('address = ""')
    lines += [
        "",
        "[doctor]",
        '# DNS server of `newsletter doctor` as "HOST:PORT"; empty: the system resolver.',
        'nameserver = ""',
        "",
    ]
    return "\n".join(lines)


def unit_text(directory: Path, executable: str, user: str) -> str:
    return f"""\
# systemd unit: sudo cp {directory / UNIT} /etc/systemd/system/
#               sudo systemctl enable --now newsletter
[Unit]
Description=Weekly newsletter
After=network-online.target postgresql.service
Wants=network-online.target

[Service]
User={user}
WorkingDirectory={directory}
Environment=NEWSLETTER_CONFIG={directory / CONFIG}
ExecStart={executable} run --log-format json
Restart=on-failure
TimeoutStopSec=20
# What the daemon creates (the database, the outbox) only this user can read.
UMask=0077
# Every SMTP session and web request holds a descriptor; 1,024 is systemd's default.
LimitNOFILE=65536
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=strict
ProtectHome=read-only
ReadWritePaths={directory / DATA}

[Install]
WantedBy=multi-user.target
"""


def caddy_text(base_url: str) -> str:
    """Caddy fetches and renews the certificate itself; a base URL with a path is served
    under that path, with the prefix stripped before it reaches the app."""
    parts = urlsplit(base_url)
    site = parts.netloc if parts.scheme == "https" else f"http://{parts.netloc}"
    upstream = f"\treverse_proxy 127.0.0.1:{WEB_PORT}"
    body = f"\thandle_path {parts.path}/* {{\n\t{upstream}\n\t}}" if parts.path else upstream
    return (
        "# Caddy (https://caddyserver.com): put this in /etc/caddy/Caddyfile, then\n"
        "#   sudo systemctl reload caddy\n"
        f"{site} {{\n{body}\n}}\n"
    )


def records_text(records: list[DnsRecord]) -> str:
    lines = ["# DNS records to publish; then check them with `newsletter doctor`.", ""]
    for record in records:
        lines += [f"# {record.note}", f"{record.name}. {record.type} {record.shown}", ""]
    return "\n".join(lines)


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
