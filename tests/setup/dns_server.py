"""A real DNS server on 127.0.0.1 for the doctor tests: dnslib's UDP and TCP servers on one
free port, answering from a zone the test can change between questions.

Names that exist without the asked type get an empty NOERROR answer and unknown names
NXDOMAIN, as an authoritative server does (checkdmarc and pyspf tell the two apart).
Long TXT values are split into 255-byte strings as a DNS panel does; answers larger
than a UDP datagram are truncated, so the resolver retries over TCP like in real life.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from dnslib import AAAA, MX, QTYPE, RCODE, RR, TXT, A, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer


@dataclass
class Zone(BaseResolver):  # type: ignore[misc]
    """(name, type) -> values; a TXT value is one string, an MX value "10 host"."""

    records: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    questions: list[tuple[str, str]] = field(default_factory=list)
    servfail: bool = False

    def set(self, name: str, rtype: str, *values: str) -> None:
        self.records[(name.lower(), rtype)] = list(values)

    def remove(self, name: str, rtype: str) -> None:
        del self.records[(name.lower(), rtype)]

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        rtype = QTYPE[request.q.qtype]
        self.questions.append((name, rtype))
        if self.servfail:
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        if not any(owner == name for owner, _ in self.records):
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for value in self.records.get((name, rtype), []):
            reply.add_answer(RR(name, getattr(QTYPE, rtype), rdata=_rdata(rtype, value), ttl=60))
        return reply


def _rdata(rtype: str, value: str) -> object:
    if rtype == "A":
        return A(value)
    if rtype == "AAAA":
        return AAAA(value)
    if rtype == "MX":
        preference, host = value.split()
        return MX(host, int(preference))
    if rtype == "TXT":
        data = value.encode()
        return TXT([data[i : i + 255] for i in range(0, len(data), 255)])
    raise ValueError(rtype)


def _free_port() -> int:
    """A port free for both UDP and TCP (the two servers share it)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port


@contextmanager
def dns_server(zone: Zone) -> Iterator[str]:
    """Serve ``zone``; yields the ``HOST:PORT`` for ``[doctor] nameserver``."""
    quiet = DNSLogger("-request,-reply,-truncated,+error", prefix=False)
    port = _free_port()
    servers = [
        DNSServer(zone, port=port, address="127.0.0.1", tcp=tcp, logger=quiet)
        for tcp in (False, True)
    ]
    for server in servers:
        server.start_thread()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        for server in servers:
            server.stop()
            server.server.server_close()
