"""The questions of ``newsletter init``, as data: each with its default and its check.

The CLI asks them with Rich prompts or takes them from flags, and every answer is checked
by the same function either way, so a script and a person get the same one-line refusal.
An answer is stored as the string the files are written from (:mod:`newsletter.setup.files`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsletter.config import ScheduleSection, hide_password
from newsletter.db.subscribers import clean_name, normalise_address
from newsletter.delivery.slots import make_trigger
from newsletter.errors import ConfigError, InputError
from newsletter.setup.records import domain_of

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
    """The sender's name goes where readers' names go, in a header: the list's rule for names."""
    name = clean_name(value)
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
