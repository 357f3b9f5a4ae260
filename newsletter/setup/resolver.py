"""The one DNS resolver of ``doctor``: the system's, or the server ``[doctor] nameserver``.

Every DNS question of the checks (SPF and DMARC through checkdmarc, SPF evaluation through
pyspf, DKIM and the relay's addresses directly) goes through the resolver made here, so
a test's DNS server on loopback or a split-horizon server sees every one of them.
"""

from __future__ import annotations

import dns.exception
import dns.nameserver
import dns.resolver

from newsletter.config import DoctorSection
from newsletter.errors import ConfigError

# Seconds for one question, and for one name with its retries: long enough for a slow
# authoritative server, short enough that a dead resolver does not hang the doctor.
QUERY_TIMEOUT = 3.0
LIFETIME = 8.0


def make_resolver(doctor: DoctorSection) -> dns.resolver.Resolver:
    """No cache: doctor is run right after publishing a record and must see it now."""
    address = doctor.nameserver_address
    if address is None:
        try:
            resolver = dns.resolver.Resolver()
        except dns.exception.DNSException as exc:
            raise ConfigError(
                f"no system DNS resolver ({exc}); set doctor.nameserver to HOST:PORT"
            ) from None
    else:
        resolver = dns.resolver.Resolver(configure=False)
        host, port = address
        resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port)]
    resolver.timeout = QUERY_TIMEOUT
    resolver.lifetime = LIFETIME
    resolver.cache = None
    return resolver
