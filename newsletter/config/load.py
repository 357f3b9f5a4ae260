"""Loading: defaults < TOML file < environment, each value checked where it came from.

Nothing else in the package reads the environment or a config file. Every section is
checked as it is built and the rules between sections right after, so a typo in a key,
a value of the wrong type or a value that makes no sense is one clear line naming the key
and where it came from, never a failure in the middle of a send.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from newsletter.config import values
from newsletter.config.secrets import (
    DKIM_KEY_ENV,
    IMAP_PASSWORD_ENV,
    INLINE_SECRETS,
    MAILGUN_KEY_ENV,
    POSTMARK_PASSWORD_ENV,
    SECRET_KEY_ENV,
    SENDGRID_KEY_ENV,
    SMTP_PASSWORD_ENV,
    read_secret,
)
from newsletter.config.section import Section
from newsletter.config.settings import Settings
from newsletter.errors import ConfigError

ENV_PREFIX = "NEWSLETTER_"
CONFIG_ENV = "NEWSLETTER_CONFIG"


def _section_types() -> dict[str, type[Any]]:
    """Section name -> its dataclass; a field ``bounces_imap`` is the sub-table
    [bounces.imap] (environment: NEWSLETTER_BOUNCES__IMAP__HOST).

    The type hints are read once: each reading evaluates every annotation of ``Settings``
    again, and every command (``--help`` too) loads this module."""
    hints = typing.get_type_hints(Settings)
    return {
        f.name.replace("_", "."): hints[f.name]
        for f in dataclasses.fields(Settings)
        if dataclasses.is_dataclass(hints[f.name])
    }


_SECTIONS = _section_types()

Raw = dict[str, dict[str, object]]
"""Section name -> key -> value, as the file and the environment give them."""
Origin = dict[tuple[str, str], str]
"""(section, key) -> where its value came from: the file's path or the variable's name."""


def load_settings(
    config_path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings; ``config_path`` wins over ``NEWSLETTER_CONFIG``."""
    env = os.environ if environ is None else environ
    path = Path(config_path) if config_path else None
    if path is None and env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV])
    raw: Raw = {}
    origin: Origin = {}
    source = "built-in defaults"
    if path is not None:
        source = str(path)
        for section, found in _read_toml(path).items():
            for key, value in found.items():
                raw.setdefault(section, {})[key] = value
                origin[(section, key)] = str(path)
    _read_environment(env, raw, origin)
    sections = {name: _build_section(name, raw.get(name, {}), origin) for name in _SECTIONS}
    settings = Settings(
        **{name.replace(".", "_"): section for name, section in sections.items()},
        secret_key=read_secret(env, SECRET_KEY_ENV, sections["newsletter"].secret_key_file),
        smtp_password=read_secret(env, SMTP_PASSWORD_ENV, sections["smtp"].password_file),
        dkim_private_key=read_secret(env, DKIM_KEY_ENV, sections["dkim"].private_key_file),
        imap_password=read_secret(env, IMAP_PASSWORD_ENV, sections["bounces.imap"].password_file),
        postmark_password=read_secret(
            env, POSTMARK_PASSWORD_ENV, sections["bounces"].postmark_password_file
        ),
        mailgun_signing_key=read_secret(
            env, MAILGUN_KEY_ENV, sections["bounces"].mailgun_signing_key_file
        ),
        sendgrid_verification_key=read_secret(
            env, SENDGRID_KEY_ENV, sections["bounces"].sendgrid_verification_key_file
        ),
        source=source,
    )
    # Each section's own rules once every value has its type and every secret is read: a
    # wrong type or an unreadable secret file is reported before what a value means.
    for name, section in sections.items():
        _check_section(name, section, origin, source)
    for name, key, problem in settings.problems():
        _fail(name, key, problem, origin, source)
    return settings


def _read_toml(path: Path) -> Raw:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    flat: Raw = {}
    for section, found in document.items():
        if section not in _SECTIONS:
            raise ConfigError(f"{path}: unknown section [{section}]")
        if not isinstance(found, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        for key, value in found.items():
            if isinstance(value, dict) and f"{section}.{key}" in _SECTIONS:
                flat[f"{section}.{key}"] = value  # a sub-table such as [bounces.imap]
                for sub_key in value:
                    _check_known(f"{section}.{key}", sub_key, str(path))
                continue
            _check_known(section, key, str(path))
            flat.setdefault(section, {})[key] = value
    return flat


def _read_environment(env: Mapping[str, str], raw: Raw, origin: Origin) -> None:
    """``NEWSLETTER_SECTION__KEY`` over the file's value, converted to the key's type."""
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().rpartition("__")
        section = section.replace("__", ".")
        where = f"environment variable {name}"
        _check_known(section, key, where)
        kind = _field_type(section, key)
        try:
            raw.setdefault(section, {})[key] = values.from_env_string(kind, value)
        except ValueError:
            raise ConfigError(
                f"{where}: {section}.{key} must be {values.type_name(kind)}, got {value!r}"
            ) from None
        origin[(section, key)] = where


def _check_known(section: str, key: str, where: str) -> None:
    if (section, key) in INLINE_SECRETS:
        raise ConfigError(
            f"{where}: {section}.{key} must not hold a secret; {INLINE_SECRETS[(section, key)]}"
        )
    if section not in _SECTIONS:
        raise ConfigError(f"{where}: unknown section [{section}]")
    if key not in {f.name for f in dataclasses.fields(_SECTIONS[section])}:
        raise ConfigError(f"{where}: unknown key {section}.{key}")


def _field_type(section: str, key: str) -> Any:
    return typing.get_type_hints(_SECTIONS[section])[key]


def _build_section(name: str, found: dict[str, object], origin: Origin) -> Any:
    """The section of the values found, each of its key's type (its rules come later)."""
    converted: dict[str, object] = {}
    for key, value in found.items():
        kind = _field_type(name, key)
        if not values.is_valid(kind, value):
            raise ConfigError(
                f"{origin[(name, key)]}: {name}.{key} must be {values.type_name(kind)}, "
                f"got {value!r}"
            )
        converted[key] = values.frozen(kind, value)
    return _SECTIONS[name](**converted)


def _check_section(name: str, section: Section, origin: Origin, source: str) -> None:
    for key, problem in section.problems():
        _fail(name, key, problem, origin, source)


def _fail(section: str, key: str, problem: str, origin: Origin, source: str) -> typing.NoReturn:
    """One line: where the value came from (the defaults: the file as a whole), then what."""
    where = origin.get((section, key), source)
    raise ConfigError(f"{where}: {section}.{key} {problem}")
