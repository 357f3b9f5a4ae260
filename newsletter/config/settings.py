"""The whole configuration: every section, the secrets, and the rules between them.

A section checks its own keys (see :mod:`newsletter.config.section`); what is left here
spans sections or needs a secret, which lives beside the sections, not in them, so that
no section ever carries one into a repr or a log line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from newsletter.config.doctor import DoctorSection
from newsletter.config.owner import OwnerSection
from newsletter.config.publishing import (
    DatabaseSection,
    NewsletterSection,
    PostsSection,
    ScheduleSection,
)
from newsletter.config.returns import BouncesSection, ImapSection
from newsletter.config.secrets import (
    DKIM_KEY_ENV,
    IMAP_PASSWORD_ENV,
    POSTMARK_PASSWORD_ENV,
    SECRET_KEY_ENV,
    Secret,
)
from newsletter.config.sending import DkimSection, SmtpSection
from newsletter.config.serving import LOOPBACK_HOSTS, InboundSection, WebSection, as_host_header
from newsletter.errors import ConfigError

CrossProblems = Iterator[tuple[str, str, str]]
"""``(section, key, problem)``: the key a person changes to fix it."""


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
    owner: OwnerSection = field(default_factory=OwnerSection)
    secret_key: Secret | None = None
    smtp_password: Secret | None = None
    dkim_private_key: Secret | None = None
    imap_password: Secret | None = None
    postmark_password: Secret | None = None
    mailgun_signing_key: Secret | None = None
    sendgrid_verification_key: Secret | None = None
    source: str = "built-in defaults"

    def problems(self) -> CrossProblems:
        """The rules between sections and secrets; each section checked itself before."""
        yield from _needs_secret(
            self.bounces.postmark_user,
            self.postmark_password,
            "bounces",
            "postmark_password_file",
            POSTMARK_PASSWORD_ENV,
            "bounces.postmark_user",
        )
        yield from _needs_secret(
            self.bounces_imap.host,
            self.imap_password,
            "bounces.imap",
            "password_file",
            IMAP_PASSWORD_ENV,
            "bounces.imap.host",
        )
        yield from _needs_secret(
            self.dkim.domain,
            self.dkim_private_key,
            "dkim",
            "private_key_file",
            DKIM_KEY_ENV,
            "dkim.domain",
        )

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
            return tuple(as_host_header(host) for host in self.web.trusted_hosts)
        base_host = as_host_header(urlsplit(self.newsletter.base_url).hostname or "")
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
            self.bounces.sendgrid_verification_key_file,
        )
        return tuple(Path(name) for name in names if name)


def _needs_secret(
    used: str, secret: Secret | None, section: str, key: str, variable: str, because: str
) -> CrossProblems:
    """A feature switched on in one section needs a secret that lives outside it."""
    if used and secret is None:
        yield section, key, f"or {variable} is required when {because} is set"
