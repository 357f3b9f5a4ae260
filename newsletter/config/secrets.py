"""Secrets: where each may come from (the environment or a file it names), never inline.

A secret in the config file would travel with every copy, backup and paste of that file,
so the keys that would hold one inline are refused, each with where the secret goes
instead; a :class:`Secret` never shows its value in a repr, a log line or a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from newsletter.errors import ConfigError

SECRET_KEY_ENV = "NEWSLETTER_SECRET_KEY"  # noqa: S105 (a variable name)
SMTP_PASSWORD_ENV = "NEWSLETTER_SMTP_PASSWORD"  # noqa: S105 (a variable name)
DKIM_KEY_ENV = "NEWSLETTER_DKIM_PRIVATE_KEY"
IMAP_PASSWORD_ENV = "NEWSLETTER_BOUNCES_IMAP_PASSWORD"  # noqa: S105 (a variable name)
POSTMARK_PASSWORD_ENV = "NEWSLETTER_POSTMARK_WEBHOOK_PASSWORD"  # noqa: S105 (a variable name)
MAILGUN_KEY_ENV = "NEWSLETTER_MAILGUN_SIGNING_KEY"
# SendGrid's verification key is public, but kept with the other webhook keys: one way in.
SENDGRID_KEY_ENV = "NEWSLETTER_SENDGRID_VERIFICATION_KEY"

# Keys that would hold a secret inline; each names where the secret must come from instead.
INLINE_SECRETS = {
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
    (
        "bounces",
        "sendgrid_verification_key",
    ): f"set {SENDGRID_KEY_ENV} or bounces.sendgrid_verification_key_file",
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


def read_secret(env: Mapping[str, str], variable: str, file_name: str) -> Secret | None:
    """The environment variable wins over the file; neither set means no secret."""
    if env.get(variable):
        return Secret(env[variable])
    if file_name:
        try:
            return Secret(Path(file_name).read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise ConfigError(f"cannot read secret file {file_name}: {exc.strerror}") from None
    return None
