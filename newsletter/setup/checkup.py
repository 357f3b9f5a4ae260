"""What every doctor check shares: the finding it returns and the set-up it looks at."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import dns.resolver

from newsletter.config import Settings
from newsletter.setup.resolver import make_resolver

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Finding:
    """A check's verdict; for ``warn`` and ``fail`` the message ends with the fix."""

    status: Status
    message: str


class Checkup:
    """The set-up being checked: its settings, and one resolver made on first use (so a
    missing system resolver fails the DNS checks, not the whole run)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def resolver(self) -> dns.resolver.Resolver:
        return make_resolver(self.settings.doctor)


def is_loopback(host: str) -> bool:
    """A host on this machine: plain text to it never crosses a network."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
