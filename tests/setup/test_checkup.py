"""setup/checkup: what the doctor's checks share, the loopback rule and the one resolver."""

from __future__ import annotations

import pytest

from newsletter.config import DoctorSection
from newsletter.setup.checkup import Checkup, is_loopback
from tests.support.settings import make_settings


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "localhost"])
def test_hosts_on_this_machine_are_loopback(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["192.0.2.1", "::ffff:192.0.2.1", "smtp.mailrelay.nl", ""])
def test_other_hosts_are_not(host: str) -> None:
    assert not is_loopback(host)


def test_one_resolver_for_every_check_asking_the_configured_server() -> None:
    checkup = Checkup(make_settings(doctor=DoctorSection(nameserver="127.0.0.1:5353")))
    resolver = checkup.resolver
    assert checkup.resolver is resolver
    assert [(n.address, n.port) for n in resolver.nameservers] == [("127.0.0.1", 5353)]
