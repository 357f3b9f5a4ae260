"""Settings: built once per entry point from defaults < TOML file < environment, then frozen.

Nothing else in the package reads the environment or a config file; every other module
receives a :class:`Settings` (or one of its sections) as an argument. The parts:

- ``load``: the file and the environment, read and checked (``values``: raw values
  against a key's type);
- ``settings``: :class:`Settings`, all sections and secrets, and the rules between them;
- the sections, each checking its own keys (``section``): ``publishing`` (newsletter,
  posts, schedule, database), ``sending`` (smtp, dkim), ``serving`` (web, inbound),
  ``returns`` (bounces, bounces.imap), ``doctor``, ``owner``;
- ``secrets``: where a secret may come from, and :class:`Secret`;
- ``redact``: :func:`hide_password`, for a URL shown anywhere.
- ``shipped``: :func:`~newsletter.config.shipped.resource_dir`, where the installation
  keeps the files the package ships.
"""

from newsletter.config.doctor import DoctorSection, parse_nameserver
from newsletter.config.load import CONFIG_ENV, ENV_PREFIX, load_settings
from newsletter.config.owner import OwnerSection
from newsletter.config.publishing import (
    DatabaseSection,
    NewsletterSection,
    PostsSection,
    ScheduleSection,
)
from newsletter.config.redact import hide_password
from newsletter.config.returns import BouncesSection, ImapSection
from newsletter.config.secrets import (
    DKIM_KEY_ENV,
    IMAP_PASSWORD_ENV,
    MAILGUN_KEY_ENV,
    POSTMARK_PASSWORD_ENV,
    SECRET_KEY_ENV,
    SENDGRID_KEY_ENV,
    SMTP_PASSWORD_ENV,
    Secret,
)
from newsletter.config.sending import DkimSection, SmtpSection
from newsletter.config.serving import LOOPBACK_HOSTS, InboundSection, WebSection
from newsletter.config.settings import Settings

__all__ = [
    "CONFIG_ENV",
    "DKIM_KEY_ENV",
    "ENV_PREFIX",
    "IMAP_PASSWORD_ENV",
    "LOOPBACK_HOSTS",
    "MAILGUN_KEY_ENV",
    "POSTMARK_PASSWORD_ENV",
    "SECRET_KEY_ENV",
    "SENDGRID_KEY_ENV",
    "SMTP_PASSWORD_ENV",
    "BouncesSection",
    "DatabaseSection",
    "DkimSection",
    "DoctorSection",
    "ImapSection",
    "InboundSection",
    "NewsletterSection",
    "OwnerSection",
    "PostsSection",
    "ScheduleSection",
    "Secret",
    "Settings",
    "SmtpSection",
    "WebSection",
    "hide_password",
    "load_settings",
    "parse_nameserver",
]
