"""One settings factory and the one secret: a configuration is built the same way everywhere.

The defaults are the blog's real newsletter (sender, list id, base URL); a test overrides
only what it is about, per section, so that what differs from "normal" is visible in the
test itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from newsletter.config import (
    DatabaseSection,
    DkimSection,
    InboundSection,
    NewsletterSection,
    OwnerSection,
    PostsSection,
    ScheduleSection,
    Secret,
    Settings,
    SmtpSection,
    WebSection,
)

SECRET = "a-secret-only-the-tests-know"
SENDER = "nieuwsbrief@gerritvanderheide.com"
OWNER = "gerrit@gerritvanderheide.com"
BASE_URL = "https://nieuwsbrief.gerritvanderheide.com"
LIST_ID = "nieuwsbrief.gerritvanderheide.com"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")

Overrides = Mapping[str, Any]


def make_settings(
    *,
    newsletter: Overrides | None = None,
    database: Overrides | None = None,
    posts: Overrides | None = None,
    smtp: Overrides | None = None,
    schedule: Overrides | None = None,
    web: Overrides | None = None,
    inbound: Overrides | None = None,
    dkim: Overrides | None = None,
    owner: Overrides | None = None,
    secret: str | None = SECRET,
    **top: Any,
) -> Settings:
    """Settings for a test: the newsletter's own identity, ``SECRET``, section overrides.

    Each section keyword replaces those keys of that section only; ``top`` sets the
    other fields of :class:`Settings` (``smtp_password``, ``dkim_private_key``).
    """
    base_newsletter = NewsletterSection(base_url=BASE_URL, from_address=SENDER, list_id=LIST_ID)
    return Settings(
        newsletter=replace(base_newsletter, **(newsletter or {})),
        database=replace(DatabaseSection(), **(database or {})),
        posts=replace(PostsSection(), **(posts or {})),
        smtp=replace(SmtpSection(), **(smtp or {})),
        schedule=replace(ScheduleSection(), **(schedule or {})),
        web=replace(WebSection(), **(web or {})),
        inbound=replace(InboundSection(), **(inbound or {})),
        dkim=replace(DkimSection(), **(dkim or {})),
        owner=replace(OwnerSection(), **(owner or {})),
        secret_key=Secret(secret) if secret is not None else None,
        **top,
    )


def relay(port: int, **smtp: Any) -> dict[str, Any]:
    """The ``smtp`` overrides for the test server on 127.0.0.1: plain SMTP, short timeout."""
    return {
        "transport": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "timeout": 5.0,
        "connections": 4,
        **smtp,
    }


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def local(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """A moment on the newsletter's own clock (Amsterdam)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=AMSTERDAM)


def config_file(folder: Path, text: str) -> Path:
    """``text`` as ``config.toml`` in ``folder``: the file a person writes, as they wrote it."""
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path
