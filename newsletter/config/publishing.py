"""The sections of what is published and when: the newsletter itself, its posts, its
schedule, and the database that remembers them."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from typing import Literal

from newsletter.config.redact import hide_password
from newsletter.config.section import Problems

# RFC 2919: list-label "." namespace, both dot-atom-text (RFC 5322 atext), 255 at most.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LIST_ID = re.compile(rf"{_ATOM}(?:\.{_ATOM})+")
# Gmail's Feedback-ID: the SenderId is 5 to 15 characters, and ":" separates the fields.
_SENDER_ID = re.compile(r"[A-Za-z0-9._-]{5,15}")
MAX_MORE_POSTS = 5


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
    feedback_sender_id: str = ""
    signature: str = "Groet,\nGerrit"
    language: str = "nl"
    content: Literal["full", "excerpt"] = "full"
    post_url_template: str = "https://www.gerritvanderheide.com/?s={title}"
    more_posts: int = 2
    data_dir: str = "data"
    secret_key_file: str = ""

    def problems(self) -> Problems:
        if not 0 <= self.alert_failed_percent <= 100:
            yield "alert_failed_percent", "must be between 0 and 100"
        if not self.base_url.startswith(("http://", "https://")):
            yield "base_url", "must start with http:// or https://"
        for key in ("from_address", "reply_to", "owner_address"):
            value = getattr(self, key)
            if value and ("@" not in value or any(c in value for c in " <>\r\n")):
                yield key, f"is not a plain e-mail address: {value!r}"
        if not self.from_address:
            yield "from_address", "is required"
        if "{title}" not in self.post_url_template and "{slug}" not in self.post_url_template:
            yield "post_url_template", "must contain {title} or {slug}"
        if not (_LIST_ID.fullmatch(self.list_id) and len(self.list_id) <= 255):
            yield (
                "list_id",
                f"must be a name like nieuwsbrief.example.org (RFC 2919): {self.list_id!r}",
            )
        if self.feedback_sender_id and not _SENDER_ID.fullmatch(self.feedback_sender_id):
            yield (
                "feedback_sender_id",
                (
                    "must be 5 to 15 letters, digits, '.', '_' or '-' (the SenderId of Gmail's "
                    f"Feedback-ID): {self.feedback_sender_id!r}"
                ),
            )
        elif self.from_address and not _SENDER_ID.fullmatch(self.sender_id):
            yield (
                "from_address",
                (
                    f"gives {self.sender_id!r} as the SenderId of the Feedback-ID header, which "
                    "needs 5 to 15 characters: set newsletter.feedback_sender_id"
                ),
            )
        if not 0 <= self.more_posts <= MAX_MORE_POSTS:
            yield "more_posts", f"must be between 0 (off) and {MAX_MORE_POSTS}"

    @property
    def sender_id(self) -> str:
        """The SenderId of the Feedback-ID header: the configured one, else the sender's
        domain (cut to Gmail's 15 characters), the same for every mail of the stream."""
        if self.feedback_sender_id:
            return self.feedback_sender_id
        domain = self.from_address.rpartition("@")[2].lower()
        if len(domain) < 5:  # x.nl: Gmail wants 5 to 15 characters, and init must not fail
            domain = f"{domain}-news"
        return domain[:15].rstrip(".-")


@dataclass(frozen=True)
class PostsSection:
    """Where posts come from on their own (the blog's feeds, polled by the daemon), and
    limits on what a post source may hand us (a file, a directory, a feed)."""

    feeds: tuple[str, ...] = ()
    poll_minutes: int = 60
    fetch_timeout_seconds: float = 20.0
    # A blog post is tens of kilobytes; a 50 MB file took 400 MB of memory to import.
    max_post_bytes: int = 2 * 1024 * 1024

    def problems(self) -> Problems:
        if self.max_post_bytes < 1:
            yield "max_post_bytes", "must be at least 1"
        for url in self.feeds:
            if not url.startswith(("http://", "https://")) or any(c.isspace() for c in url):
                yield "feeds", f"must hold http:// or https:// URLs, got {hide_password(url)!r}"
        if self.fetch_timeout_seconds <= 0:
            yield "fetch_timeout_seconds", "must be more than 0 seconds"
        if self.poll_minutes < 1:
            yield "poll_minutes", "must be at least 1"


@dataclass(frozen=True)
class DatabaseSection:
    url: str = ""

    def problems(self) -> Problems:
        yield from ()  # no rule at load time: opening the database judges the URL


@dataclass(frozen=True)
class ScheduleSection:
    cron: str = "mon 07:00"
    timezone: str = "Europe/Amsterdam"
    catch_up_hours: int = 24
    review_minutes: int = 0

    def problems(self) -> Problems:
        if self.catch_up_hours < 0:
            yield "catch_up_hours", "must be 0 or more"
        if self.review_minutes < 0:
            yield "review_minutes", "must be 0 or more"
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            yield "timezone", f"is not a known IANA time zone: {self.timezone!r}"
