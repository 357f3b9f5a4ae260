"""The sections of sending: the relay (or the local outbox) and the DKIM signature."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from newsletter.config.section import Problems


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

    def problems(self) -> Problems:
        if self.transport == "smtp" and not self.host:
            yield "host", "is required when smtp.transport is 'smtp'"
        if not 0 < self.port <= 65535:
            yield "port", "must be between 1 and 65535"
        if self.ca_file and not Path(self.ca_file).is_file():
            yield "ca_file", f"is not an existing file: {self.ca_file!r}"
        if self.connections < 1:
            yield "connections", "must be at least 1"
        for key in ("max_per_second", "max_per_hour", "max_per_day"):
            if getattr(self, key) < 0:
                yield key, "must be 0 (unlimited) or more"
        if self.timeout <= 0:
            yield "timeout", "must be more than 0 seconds"
        if self.messages_per_connection < 1:
            yield "messages_per_connection", "must be at least 1"
        if self.retry_first_minutes <= 0:
            yield "retry_first_minutes", "must be more than 0 minutes"
        if self.retry_max_hours * 60 < self.retry_first_minutes:
            yield "retry_max_hours", "must be at least retry_first_minutes"
        if self.lease_minutes <= 0:
            yield "lease_minutes", "must be more than 0 minutes"


@dataclass(frozen=True)
class DkimSection:
    domain: str = ""
    selector: str = ""
    private_key_file: str = ""

    def problems(self) -> Problems:
        if any((self.domain, self.selector)) and not all((self.domain, self.selector)):
            yield "selector" if self.domain else "domain", "is required when DKIM is configured"
