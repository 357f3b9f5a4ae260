"""setup/resolver: every question of ``doctor`` goes to the configured server, uncached."""

from __future__ import annotations

from newsletter.config import DoctorSection
from newsletter.setup.resolver import make_resolver

from .dns_server import Zone, dns_server


def test_the_configured_server_is_asked_each_time_never_a_cache() -> None:
    zone = Zone()
    zone.set("nieuwsbrief.nl", "TXT", "v=spf1 -all")
    with dns_server(zone) as address:
        resolver = make_resolver(DoctorSection(nameserver=address))
        first = resolver.resolve("nieuwsbrief.nl", "TXT")
        # A record published a moment ago is seen at once: doctor runs right after it.
        zone.set("nieuwsbrief.nl", "TXT", "v=spf1 mx -all")
        second = resolver.resolve("nieuwsbrief.nl", "TXT")
    assert [r.to_text() for r in first] == ['"v=spf1 -all"']
    assert [r.to_text() for r in second] == ['"v=spf1 mx -all"']
    assert zone.questions == [("nieuwsbrief.nl", "TXT")] * 2
