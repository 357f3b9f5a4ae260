"""The sections of mail that comes back: the return path, the bounce rules and webhooks,
and the mailbox bounces arrive in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from newsletter.config.section import Problems

# VERP adds "+TOKEN" to the local part, so the configured one must be plain.
_PLAIN_BOUNCE_ADDRESS = re.compile(r"[A-Za-z0-9._-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


@dataclass(frozen=True)
class BouncesSection:
    """The return path of edition messages and what bounces and complaints may do.

    ``address`` empty means off: the envelope sender stays ``from_address`` and nothing
    can tell which message a late bounce belongs to except its quoted Message-ID (signed,
    and only together with the reader the report names as its recipient). A soft
    bounce (a 4xx during the send, or reported later) in ``soft_limit`` of a reader's last
    ``soft_window`` editions makes them ``bounced``. A hard bounce that takes one
    edition's hard bounces at its reader's domain to ``suspect_minimum`` and past
    ``suspect_percent`` of the edition's mail to that domain is held (``returns.suspect``).
    """

    address: str = ""
    hard_alert_percent: float = 5.0
    complaint_alert_percent: float = 0.3
    soft_limit: int = 3
    soft_window: int = 5
    suspect_percent: float = 20.0
    suspect_minimum: int = 5
    # Relay webhooks; each is off (404) until configured.
    ses_topic_arn: str = ""
    postmark_user: str = ""
    postmark_password_file: str = ""
    mailgun_signing_key_file: str = ""
    sendgrid_verification_key_file: str = ""

    def problems(self) -> Problems:
        if self.address and not _PLAIN_BOUNCE_ADDRESS.fullmatch(self.address):
            yield (
                "address",
                "must be a plain address without '+' such as bounces@example.org: "
                f"{self.address!r}",
            )
        for key in ("hard_alert_percent", "complaint_alert_percent", "suspect_percent"):
            if not 0 < getattr(self, key) <= 100:
                yield key, "must be more than 0 and at most 100"
        if self.ses_topic_arn and not self.ses_topic_arn.startswith("arn:"):
            yield "ses_topic_arn", f"is not an SNS topic ARN: {self.ses_topic_arn!r}"
        if self.suspect_minimum < 1:
            yield "suspect_minimum", "must be at least 1"
        if self.soft_window < 1:
            yield "soft_window", "must be at least 1"
        if not 1 <= self.soft_limit <= self.soft_window:
            yield "soft_limit", "must be between 1 and bounces.soft_window"


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

    def problems(self) -> Problems:
        if not self.host:
            return  # off: the rest is not used
        if not self.user:
            yield "user", "is required when bounces.imap.host is set"
        if not 0 < self.port <= 65535:
            yield "port", "must be between 1 and 65535"
        if self.ca_file and not Path(self.ca_file).is_file():
            yield "ca_file", f"is not an existing file: {self.ca_file!r}"
        if self.poll_minutes <= 0:
            yield "poll_minutes", "must be more than 0 minutes"
        if self.timeout <= 0:
            yield "timeout", "must be more than 0 seconds"
        if self.folder == self.processed_folder:
            yield "processed_folder", "must differ from bounces.imap.folder"
        if self.unreadable_folder in (self.folder, self.processed_folder):
            yield (
                "unreadable_folder",
                "must differ from bounces.imap.folder and bounces.imap.processed_folder",
            )
