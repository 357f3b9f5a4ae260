"""The section of ``newsletter doctor``: which DNS server it asks."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from newsletter.config.section import Problems


@dataclass(frozen=True)
class DoctorSection:
    """How ``newsletter doctor`` looks things up: a DNS server of its own (split horizon,
    tests) as ``HOST:PORT``, or empty for the system resolver."""

    nameserver: str = ""

    @property
    def nameserver_address(self) -> tuple[str, int] | None:
        """The (IP address, port) of ``nameserver``; None means the system resolver."""
        if not self.nameserver:
            return None
        return parse_nameserver(self.nameserver)

    def problems(self) -> Problems:
        try:
            self.nameserver_address  # noqa: B018 (validates)
        except ValueError:
            yield (
                "nameserver",
                "must be an IP address with an optional port, like 127.0.0.1:5353 or [::1]:53, "
                f"got {self.nameserver!r}",
            )


def parse_nameserver(value: str) -> tuple[str, int]:
    """``IP``, ``IP:PORT`` or ``[IPv6]:PORT`` (port 53 when left out); ValueError otherwise."""
    host, port = value.strip(), "53"
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(value)
            port = rest[1:]
    elif host.count(":") == 1:
        host, _, port = host.partition(":")
    address = ipaddress.ip_address(host)
    number = int(port)
    if not 0 < number <= 65535:
        raise ValueError(value)
    return str(address), number
