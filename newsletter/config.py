"""Settings: built once per entry point from defaults < TOML file < environment, then frozen.

Nothing else in the package reads the environment or a config file; every other module
receives a :class:`Settings` (or one of its sections) as an argument. Validation happens
here, at load time, so a typo in a key or a value of the wrong type is one clear line
naming the key and where it came from, never a failure in the middle of a send.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import re
import tomllib
import types
import typing
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from newsletter.errors import ConfigError

ENV_PREFIX = "NEWSLETTER_"
# VERP adds "+TOKEN" to the local part, so the configured one must be plain.
_PLAIN_BOUNCE_ADDRESS = re.compile(r"[A-Za-z0-9._-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
CONFIG_ENV = "NEWSLETTER_CONFIG"
SECRET_KEY_ENV = "NEWSLETTER_SECRET_KEY"  # noqa: S105 (a variable name)
SMTP_PASSWORD_ENV = "NEWSLETTER_SMTP_PASSWORD"  # noqa: S105 (a variable name)
DKIM_KEY_ENV = "NEWSLETTER_DKIM_PRIVATE_KEY"
IMAP_PASSWORD_ENV = "NEWSLETTER_BOUNCES_IMAP_PASSWORD"  # noqa: S105 (a variable name)
POSTMARK_PASSWORD_ENV = "NEWSLETTER_POSTMARK_WEBHOOK_PASSWORD"  # noqa: S105 (a variable name)
MAILGUN_KEY_ENV = "NEWSLETTER_MAILGUN_SIGNING_KEY"

# Keys that would hold a secret inline; each names where the secret must come from instead.
_INLINE_SECRETS = {
    ("newsletter", "secret_key"): f"set {SECRET_KEY_ENV} or newsletter.secret_key_file",
    ("smtp", "password"): f"set {SMTP_PASSWORD_ENV} or smtp.password_file",
    ("dkim", "private_key"): f"set {DKIM_KEY_ENV} or dkim.private_key_file",
    ("bounces.imap", "password"): f"set {IMAP_PASSWORD_ENV} or bounces.imap.password_file",
    ("bounces", "postmark_password"): f"set {POSTMARK_PASSWORD_ENV} or "
    "bounces.postmark_password_file",
    (
        "bounces",
        "mailgun_signing_key",
    ): f"set {MAILGUN_KEY_ENV} or bounces.mailgun_signing_key_file",
}


class Secret:
    """A secret value that never shows itself in a repr, a log line or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


# A URL's password ("https://user:password@host/"): up to the last "@" before the path,
# which is where URL parsers end the user info too.
_URL_PASSWORD = re.compile(r"(?P<user>://[^\s/?#@:]*):[^\s/?#]*@")


def hide_password(text: str) -> str:
    """``text`` with the password of every URL in it shown as ``***``.

    A private feed is read as ``https://user:password@host/feed/``, and the feed's address
    names it in errors, logs, JSON, the doctor's findings and the owner's mail: the
    password must show in none of them. It takes a URL or a message quoting one.
    """
    return _URL_PASSWORD.sub(r"\g<user>:***@", text)


@dataclass(frozen=True)
class NewsletterSection:
    name: str = "Nieuwsbrief van Gerrit"
    from_name: str = "Gerrit"
    from_address: str = "nieuwsbrief@example.org"
    reply_to: str = ""
    owner_address: str = ""
    alert_failed_percent: float = 5.0
    welcome: bool = True
    base_url: str = "http://127.0.0.1:8080"
    list_id: str = "nieuwsbrief.example.org"
    signature: str = "Groet,\nGerrit"
    language: str = "nl"
    content: Literal["full", "excerpt"] = "full"
    post_url_template: str = "https://www.gerritvanderheide.com/?s={title}"
    data_dir: str = "data"
    secret_key_file: str = ""


@dataclass(frozen=True)
class PostsSection:
    """Where posts come from on their own (the blog's feeds, polled by the daemon), and
    limits on what a post source may hand us (a file, a directory, a feed)."""

    feeds: tuple[str, ...] = ()
    poll_minutes: int = 60
    fetch_timeout_seconds: float = 20.0
    # A blog post is tens of kilobytes; a 50 MB file took 400 MB of memory to import.
    max_post_bytes: int = 2 * 1024 * 1024


@dataclass(frozen=True)
class DatabaseSection:
    url: str = ""


@dataclass(frozen=True)
class SmtpSection:
    transport: Literal["auto", "smtp", "maildir"] = "auto"
    host: str = ""
    port: int = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    ca_file: str = ""
    username: str = ""
    password_file: str = ""
    connections: int = 4
    max_per_second: float = 0.0
    max_per_hour: int = 0
    max_per_day: int = 0
    messages_per_connection: int = 1000
    timeout: float = 30.0
    maildir: str = ""
    retry_first_minutes: float = 5.0
    retry_max_hours: float = 24.0
    lease_minutes: float = 10.0


@dataclass(frozen=True)
class ScheduleSection:
    cron: str = "mon 07:00"
    timezone: str = "Europe/Amsterdam"
    catch_up_hours: int = 24
    review_minutes: int = 0


@dataclass(frozen=True)
class WebSection:
    host: str = "127.0.0.1"
    port: int = 8080
    # Host headers the app answers; empty: the host of newsletter.base_url plus loopback.
    trusted_hosts: tuple[str, ...] = ()
    # Proxies (IP addresses or networks) whose X-Forwarded-For names the visitor; empty: the
    # connecting address is the visitor, whatever the headers say.
    trusted_proxies: tuple[str, ...] = ()


# As a Host header names them: an IPv6 address keeps its brackets ("[::1]:8080").
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
# A host name or IPv4 address, "*.domain" for its subdomains, "*" for any, or an IPv6
# address (bracketed or bare).
_HOST_PATTERN = re.compile(
    r"\*|(?:\*\.)?[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?|\[?[0-9a-f.]*:[0-9a-f:.]*\]?"
)


@dataclass(frozen=True)
class InboundSection:
    """The optional SMTP listener for ``mailto:`` unsubscribe requests (off by default).

    It shares the process's file descriptors with the web app: at most ``max_sessions``
    clients at once (the next get a 421), each hung up on after ``timeout`` silent seconds.
    """

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 2525
    max_sessions: int = 100
    timeout: float = 30.0


@dataclass(frozen=True)
class BouncesSection:
    """The return path of edition messages and what bounces and complaints may do.

    ``address`` empty means off: the envelope sender stays ``from_address`` and nothing
    can tell which message a late bounce belongs to except its quoted Message-ID (signed,
    and only together with the reader the report names as its recipient). A soft
    bounce (a 4xx during the send, or reported later) in ``soft_limit`` of a reader's last
    ``soft_window`` editions makes them ``bounced``.
    """

    address: str = ""
    hard_alert_percent: float = 5.0
    complaint_alert_percent: float = 0.3
    soft_limit: int = 3
    soft_window: int = 5
    # Relay webhooks; each is off (404) until configured.
    ses_topic_arn: str = ""
    postmark_user: str = ""
    postmark_password_file: str = ""
    mailgun_signing_key_file: str = ""


@dataclass(frozen=True)
class ImapSection:
    """A mailbox the bounces arrive in, polled by the daemon (``host`` empty = off).

    Processed bounces and complaints are moved to ``processed_folder``; mail that cannot
    be read (too big, nested too deep) to ``unreadable_folder``, for a person; anything
    else is left where it is, unread.
    """

    host: str = ""
    port: int = 993
    security: Literal["tls", "starttls", "none"] = "tls"
    ca_file: str = ""
    user: str = ""
    password_file: str = ""
    folder: str = "INBOX"
    processed_folder: str = "Verwerkt"
    unreadable_folder: str = "newsletter-unreadable"
    poll_minutes: float = 5.0
    timeout: float = 30.0


@dataclass(frozen=True)
class DkimSection:
    domain: str = ""
    selector: str = ""
    private_key_file: str = ""


@dataclass(frozen=True)
class DoctorSection:
    """How ``newsletter doctor`` looks things up: a DNS server of its own (split horizon,
    tests) as ``HOST:PORT``, or empty for the system resolver."""

    nameserver: str = ""

    @property
    def nameserver_address(self) -> tuple[str, int] | None:
        """The (IP address, port) of ``nameserver``; None means the system resolver."""
        if not self.nameserver:
            return None
        return parse_nameserver(self.nameserver)


def parse_nameserver(value: str) -> tuple[str, int]:
    """``IP``, ``IP:PORT`` or ``[IPv6]:PORT`` (port 53 when left out); ValueError otherwise."""
    host, port = value.strip(), "53"
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(value)
            port = rest[1:]
    elif host.count(":") == 1:
        host, _, port = host.partition(":")
    address = ipaddress.ip_address(host)
    number = int(port)
    if not 0 < number <= 65535:
        raise ValueError(value)
    return str(address), number


@dataclass(frozen=True)
class Settings:
    newsletter: NewsletterSection = field(default_factory=NewsletterSection)
    database: DatabaseSection = field(default_factory=DatabaseSection)
    posts: PostsSection = field(default_factory=PostsSection)
    smtp: SmtpSection = field(default_factory=SmtpSection)
    schedule: ScheduleSection = field(default_factory=ScheduleSection)
    web: WebSection = field(default_factory=WebSection)
    inbound: InboundSection = field(default_factory=InboundSection)
    bounces: BouncesSection = field(default_factory=BouncesSection)
    bounces_imap: ImapSection = field(default_factory=ImapSection)
    dkim: DkimSection = field(default_factory=DkimSection)
    doctor: DoctorSection = field(default_factory=DoctorSection)
    secret_key: Secret | None = None
    smtp_password: Secret | None = None
    dkim_private_key: Secret | None = None
    imap_password: Secret | None = None
    postmark_password: Secret | None = None
    mailgun_signing_key: Secret | None = None
    source: str = "built-in defaults"

    def signing_key(self) -> str:
        """The key of every unsubscribe/confirm link; nothing that makes links runs without it."""
        if self.secret_key is None or not self.secret_key.reveal():
            raise ConfigError(
                f"no secret key, so links cannot be signed or checked: set {SECRET_KEY_ENV} "
                "or newsletter.secret_key_file (`newsletter run --demo` makes one for a demo)"
            )
        return self.secret_key.reveal()

    @property
    def data_dir(self) -> Path:
        return Path(self.newsletter.data_dir)

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir / 'newsletter.db'}"

    @property
    def transport(self) -> Literal["smtp", "maildir"]:
        """``auto`` means: a real relay when one is configured, else the local outbox."""
        if self.smtp.transport == "auto":
            return "smtp" if self.smtp.host else "maildir"
        return self.smtp.transport

    @property
    def trusted_hosts(self) -> tuple[str, ...]:
        """The Host headers the web app answers (web.trusted_hosts, else base_url's host).

        Computed on use, not at load time, so a base_url changed later (the demo picks its
        own port) still brings its host along.
        """
        if self.web.trusted_hosts:
            return tuple(_as_host_header(host) for host in self.web.trusted_hosts)
        base_host = _as_host_header(urlsplit(self.newsletter.base_url).hostname or "")
        return tuple(dict.fromkeys((base_host, *LOOPBACK_HOSTS)))

    @property
    def maildir_path(self) -> Path:
        return Path(self.smtp.maildir) if self.smtp.maildir else self.data_dir / "outbox"

    @property
    def secret_files(self) -> tuple[Path, ...]:
        """Every file the configuration names a secret in (whether or not the environment
        overrides it: the file is on disk either way)."""
        names = (
            self.newsletter.secret_key_file,
            self.smtp.password_file,
            self.dkim.private_key_file,
            self.bounces_imap.password_file,
            self.bounces.postmark_password_file,
            self.bounces.mailgun_signing_key_file,
        )
        return tuple(Path(name) for name in names if name)


def _as_host_header(host: str) -> str:
    """An IPv6 address as a Host header carries it: in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


# Section name -> its dataclass; a field ``bounces_imap`` is the sub-table [bounces.imap]
# (environment: NEWSLETTER_BOUNCES__IMAP__HOST).
_SECTIONS: dict[str, type[Any]] = {
    f.name.replace("_", "."): typing.get_type_hints(Settings)[f.name]
    for f in dataclasses.fields(Settings)
    if dataclasses.is_dataclass(typing.get_type_hints(Settings)[f.name])
}


def load_settings(
    config_path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings; ``config_path`` wins over ``NEWSLETTER_CONFIG``."""
    env = os.environ if environ is None else environ
    path = Path(config_path) if config_path else None
    if path is None and env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV])
    raw: dict[str, dict[str, object]] = {}
    origin: dict[tuple[str, str], str] = {}
    source = "built-in defaults"
    if path is not None:
        source = str(path)
        for section, values in _read_toml(path).items():
            for key, value in values.items():
                raw.setdefault(section, {})[key] = value
                origin[(section, key)] = str(path)
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().rpartition("__")
        section = section.replace("__", ".")
        where = f"environment variable {name}"
        _check_known(section, key, where)
        raw.setdefault(section, {})[key] = _from_env_string(section, key, value, where)
        origin[(section, key)] = where

    sections = {
        name: _build_section(cls, raw.get(name, {}), origin) for name, cls in _SECTIONS.items()
    }
    settings = Settings(
        **{name.replace(".", "_"): section for name, section in sections.items()},
        secret_key=_secret(env, SECRET_KEY_ENV, sections["newsletter"].secret_key_file),
        smtp_password=_secret(env, SMTP_PASSWORD_ENV, sections["smtp"].password_file),
        dkim_private_key=_secret(env, DKIM_KEY_ENV, sections["dkim"].private_key_file),
        imap_password=_secret(env, IMAP_PASSWORD_ENV, sections["bounces.imap"].password_file),
        postmark_password=_secret(
            env, POSTMARK_PASSWORD_ENV, sections["bounces"].postmark_password_file
        ),
        mailgun_signing_key=_secret(
            env, MAILGUN_KEY_ENV, sections["bounces"].mailgun_signing_key_file
        ),
        source=source,
    )
    _check_consistency(settings, origin)
    return settings


def _read_toml(path: Path) -> dict[str, dict[str, object]]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    flat: dict[str, dict[str, object]] = {}
    for section, values in document.items():
        if section not in _SECTIONS:
            raise ConfigError(f"{path}: unknown section [{section}]")
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        for key, value in values.items():
            if isinstance(value, dict) and f"{section}.{key}" in _SECTIONS:
                flat[f"{section}.{key}"] = value  # a sub-table such as [bounces.imap]
                for sub_key in value:
                    _check_known(f"{section}.{key}", sub_key, str(path))
                continue
            _check_known(section, key, str(path))
            flat.setdefault(section, {})[key] = value
    return flat


def _check_known(section: str, key: str, where: str) -> None:
    if (section, key) in _INLINE_SECRETS:
        raise ConfigError(
            f"{where}: {section}.{key} must not hold a secret; {_INLINE_SECRETS[(section, key)]}"
        )
    if section not in _SECTIONS:
        raise ConfigError(f"{where}: unknown section [{section}]")
    if key not in {f.name for f in dataclasses.fields(_SECTIONS[section])}:
        raise ConfigError(f"{where}: unknown key {section}.{key}")


def _field_type(section: str, key: str) -> Any:
    return typing.get_type_hints(_SECTIONS[section])[key]


def _from_env_string(section: str, key: str, value: str, where: str) -> object:
    """Environment values are strings; convert them to the key's type before validation."""
    kind = _field_type(section, key)
    try:
        if kind is bool:
            lowered = value.strip().lower()
            if lowered not in {"1", "0", "true", "false", "yes", "no"}:
                raise ValueError(value)
            return lowered in {"1", "true", "yes"}
        if kind is int:
            return int(value)
        if kind is float:
            return float(value)
        if typing.get_origin(kind) is tuple:
            return _env_list(value)
    except ValueError:
        raise ConfigError(
            f"{where}: {section}.{key} must be {_type_name(kind)}, got {value!r}"
        ) from None
    return value


def _env_list(value: str) -> list[object]:
    """A list from one environment string: a JSON array, or items separated by commas."""
    if value.lstrip().startswith("["):
        parsed = json.loads(value)  # a JSONDecodeError is a ValueError: reported as one line
        if not isinstance(parsed, list):
            raise ValueError(value)
        return parsed
    return [item.strip() for item in value.split(",") if item.strip()]


def _type_name(kind: Any) -> str:
    if typing.get_origin(kind) is tuple:
        return "a list of strings (an environment value: a JSON array or a comma list)"
    if typing.get_origin(kind) is Literal:
        return "one of " + ", ".join(repr(choice) for choice in typing.get_args(kind))
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        kind, str(kind)
    )


def _valid(kind: Any, value: object) -> bool:
    if typing.get_origin(kind) is tuple:
        return isinstance(value, list | tuple) and all(isinstance(item, str) for item in value)
    if typing.get_origin(kind) is Literal:
        return value in typing.get_args(kind)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(kind, type | types.UnionType):
        return isinstance(value, kind)
    return False


def _build_section(
    cls: type[Any], values: dict[str, object], origin: dict[tuple[str, str], str]
) -> Any:
    section = next(name for name, c in _SECTIONS.items() if c is cls)
    converted: dict[str, object] = {}
    for key, value in values.items():
        kind = _field_type(section, key)
        if not _valid(kind, value):
            raise ConfigError(
                f"{origin[(section, key)]}: {section}.{key} must be {_type_name(kind)}, "
                f"got {value!r}"
            )
        if kind is float:
            value = float(value)  # type: ignore[arg-type]
        elif isinstance(value, list):  # TOML arrays and environment lists: frozen like the rest
            value = tuple(value)
        converted[key] = value
    return cls(**converted)


def _secret(env: Mapping[str, str], variable: str, file_name: str) -> Secret | None:
    if env.get(variable):
        return Secret(env[variable])
    if file_name:
        try:
            return Secret(Path(file_name).read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise ConfigError(f"cannot read secret file {file_name}: {exc.strerror}") from None
    return None


def _check_consistency(settings: Settings, origin: dict[tuple[str, str], str]) -> None:
    """Rules that involve a value's meaning or more than one key."""

    def fail(section: str, key: str, problem: str) -> typing.NoReturn:
        where = origin.get((section, key), settings.source)
        raise ConfigError(f"{where}: {section}.{key} {problem}")

    if settings.smtp.transport == "smtp" and not settings.smtp.host:
        fail("smtp", "host", "is required when smtp.transport is 'smtp'")
    if settings.smtp.port <= 0 or settings.smtp.port > 65535:
        fail("smtp", "port", "must be between 1 and 65535")
    if settings.smtp.ca_file and not Path(settings.smtp.ca_file).is_file():
        fail("smtp", "ca_file", f"is not an existing file: {settings.smtp.ca_file!r}")
    if settings.smtp.connections < 1:
        fail("smtp", "connections", "must be at least 1")
    for key in ("max_per_second", "max_per_hour", "max_per_day"):
        if getattr(settings.smtp, key) < 0:
            fail("smtp", key, "must be 0 (unlimited) or more")
    if settings.smtp.timeout <= 0:
        fail("smtp", "timeout", "must be more than 0 seconds")
    if settings.smtp.messages_per_connection < 1:
        fail("smtp", "messages_per_connection", "must be at least 1")
    if settings.smtp.retry_first_minutes <= 0:
        fail("smtp", "retry_first_minutes", "must be more than 0 minutes")
    if settings.smtp.retry_max_hours * 60 < settings.smtp.retry_first_minutes:
        fail("smtp", "retry_max_hours", "must be at least retry_first_minutes")
    if settings.smtp.lease_minutes <= 0:
        fail("smtp", "lease_minutes", "must be more than 0 minutes")
    if settings.posts.max_post_bytes < 1:
        fail("posts", "max_post_bytes", "must be at least 1")
    if not 0 < settings.web.port <= 65535:
        fail("web", "port", "must be between 1 and 65535")
    for host in settings.web.trusted_hosts:
        if host != host.lower() or not _HOST_PATTERN.fullmatch(host):
            fail(
                "web",
                "trusted_hosts",
                f"holds {host!r}: each entry is a lower-case host name or IP address without "
                "scheme or port, '*.example.org' for its subdomains, or '*' for any",
            )
    for proxy in settings.web.trusted_proxies:
        try:
            ipaddress.ip_network(proxy)  # strict: "10.0.0.1/8" is a typo, not a network
        except ValueError:
            fail(
                "web",
                "trusted_proxies",
                f"holds {proxy!r}: each entry is an IP address such as 127.0.0.1 or a network "
                "such as 10.0.0.0/8, without port or brackets",
            )
    if settings.inbound.max_sessions < 1:
        fail("inbound", "max_sessions", "must be at least 1")
    if settings.inbound.timeout <= 0:
        fail("inbound", "timeout", "must be more than 0 seconds")
    if settings.schedule.catch_up_hours < 0:
        fail("schedule", "catch_up_hours", "must be 0 or more")
    if settings.schedule.review_minutes < 0:
        fail("schedule", "review_minutes", "must be 0 or more")
    try:
        zoneinfo.ZoneInfo(settings.schedule.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        fail(
            "schedule", "timezone", f"is not a known IANA time zone: {settings.schedule.timezone!r}"
        )
    for url in settings.posts.feeds:
        if not url.startswith(("http://", "https://")) or any(c.isspace() for c in url):
            fail(
                "posts", "feeds", f"must hold http:// or https:// URLs, got {hide_password(url)!r}"
            )
    if settings.posts.fetch_timeout_seconds <= 0:
        fail("posts", "fetch_timeout_seconds", "must be more than 0 seconds")
    if settings.posts.poll_minutes < 1:
        fail("posts", "poll_minutes", "must be at least 1")
    if not 0 <= settings.newsletter.alert_failed_percent <= 100:
        fail("newsletter", "alert_failed_percent", "must be between 0 and 100")
    if not settings.newsletter.base_url.startswith(("http://", "https://")):
        fail("newsletter", "base_url", "must start with http:// or https://")
    for key in ("from_address", "reply_to", "owner_address"):
        value = getattr(settings.newsletter, key)
        if value and ("@" not in value or any(c in value for c in " <>\r\n")):
            fail("newsletter", key, f"is not a plain e-mail address: {value!r}")
    bounces = settings.bounces
    if bounces.address and not _PLAIN_BOUNCE_ADDRESS.fullmatch(bounces.address):
        fail(
            "bounces",
            "address",
            f"must be a plain address without '+' such as bounces@example.org: {bounces.address!r}",
        )
    for key in ("hard_alert_percent", "complaint_alert_percent"):
        if not 0 < getattr(bounces, key) <= 100:
            fail("bounces", key, "must be more than 0 and at most 100")
    if bounces.postmark_user and settings.postmark_password is None:
        fail(
            "bounces",
            "postmark_password_file",
            f"or {POSTMARK_PASSWORD_ENV} is required when bounces.postmark_user is set",
        )
    if bounces.ses_topic_arn and not bounces.ses_topic_arn.startswith("arn:"):
        fail("bounces", "ses_topic_arn", f"is not an SNS topic ARN: {bounces.ses_topic_arn!r}")
    imap = settings.bounces_imap
    if imap.host:
        if not imap.user:
            fail("bounces.imap", "user", "is required when bounces.imap.host is set")
        if settings.imap_password is None:
            fail(
                "bounces.imap",
                "password_file",
                f"or {IMAP_PASSWORD_ENV} is required when bounces.imap.host is set",
            )
        if not 0 < imap.port <= 65535:
            fail("bounces.imap", "port", "must be between 1 and 65535")
        if imap.ca_file and not Path(imap.ca_file).is_file():
            fail("bounces.imap", "ca_file", f"is not an existing file: {imap.ca_file!r}")
        if imap.poll_minutes <= 0:
            fail("bounces.imap", "poll_minutes", "must be more than 0 minutes")
        if imap.timeout <= 0:
            fail("bounces.imap", "timeout", "must be more than 0 seconds")
        if imap.folder == imap.processed_folder:
            fail("bounces.imap", "processed_folder", "must differ from bounces.imap.folder")
        if imap.unreadable_folder in (imap.folder, imap.processed_folder):
            fail(
                "bounces.imap",
                "unreadable_folder",
                "must differ from bounces.imap.folder and bounces.imap.processed_folder",
            )
    if bounces.soft_window < 1:
        fail("bounces", "soft_window", "must be at least 1")
    if not 1 <= bounces.soft_limit <= bounces.soft_window:
        fail("bounces", "soft_limit", "must be between 1 and bounces.soft_window")
    if not settings.newsletter.from_address:
        fail("newsletter", "from_address", "is required")
    if "{title}" not in settings.newsletter.post_url_template and "{slug}" not in (
        settings.newsletter.post_url_template
    ):
        fail("newsletter", "post_url_template", "must contain {title} or {slug}")
    dkim = settings.dkim
    if any((dkim.domain, dkim.selector)) and not all((dkim.domain, dkim.selector)):
        fail("dkim", "selector" if dkim.domain else "domain", "is required when DKIM is configured")
    if dkim.domain and settings.dkim_private_key is None:
        fail("dkim", "private_key_file", f"or {DKIM_KEY_ENV} is required when dkim.domain is set")
    try:
        settings.doctor.nameserver_address  # noqa: B018 (validates)
    except ValueError:
        fail(
            "doctor",
            "nameserver",
            "must be an IP address with an optional port, like 127.0.0.1:5353 or [::1]:53, "
            f"got {settings.doctor.nameserver!r}",
        )
