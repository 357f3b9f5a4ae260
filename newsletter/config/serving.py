"""The sections of what the daemon serves: the web app and the optional SMTP listener."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from newsletter.config.section import Problems

# As a Host header names them: an IPv6 address keeps its brackets ("[::1]:8080").
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
# A host name or IPv4 address, "*.domain" for its subdomains, "*" for any, or an IPv6
# address (bracketed or bare).
_HOST_PATTERN = re.compile(
    r"\*|(?:\*\.)?[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?|\[?[0-9a-f.]*:[0-9a-f:.]*\]?"
)


@dataclass(frozen=True)
class WebSection:
    host: str = "127.0.0.1"
    port: int = 8080
    # Host headers the app answers; empty: the host of newsletter.base_url plus loopback.
    trusted_hosts: tuple[str, ...] = ()
    # Proxies (IP addresses or networks) whose X-Forwarded-For names the visitor; empty: the
    # connecting address is the visitor, whatever the headers say.
    trusted_proxies: tuple[str, ...] = ()
    # Keep the IP address and user agent of the request confirming a sign-up (GDPR proof
    # of consent); false stores neither. Its type is checked when the settings are built.
    record_consent_ip: bool = True

    def problems(self) -> Problems:
        if not 0 < self.port <= 65535:
            yield "port", "must be between 1 and 65535"
        for host in self.trusted_hosts:
            if host != host.lower() or not _HOST_PATTERN.fullmatch(host):
                yield (
                    "trusted_hosts",
                    f"holds {host!r}: each entry is a lower-case host name or IP address without "
                    "scheme or port, '*.example.org' for its subdomains, or '*' for any",
                )
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy)  # strict: "10.0.0.1/8" is a typo, not a network
            except ValueError:
                yield (
                    "trusted_proxies",
                    f"holds {proxy!r}: each entry is an IP address such as 127.0.0.1 or a "
                    "network such as 10.0.0.0/8, without port or brackets",
                )


def as_host_header(host: str) -> str:
    """An IPv6 address as a Host header carries it: in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


@dataclass(frozen=True)
class InboundSection:
    """The optional SMTP listener for ``mailto:`` unsubscribe requests (off by default).

    It shares the process's file descriptors with the web app: at most ``max_sessions``
    clients at once (the next get a 421), each hung up on after ``timeout`` silent seconds.
    """

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 2525
    max_sessions: int = 100
    timeout: float = 30.0

    def problems(self) -> Problems:
        if self.max_sessions < 1:
            yield "max_sessions", "must be at least 1"
        if self.timeout <= 0:
            yield "timeout", "must be more than 0 seconds"
