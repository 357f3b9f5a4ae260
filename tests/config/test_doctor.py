"""The doctor's section: a DNS server of its own, as an IP address with an optional port."""

from __future__ import annotations

import pytest

from newsletter.config import DoctorSection, parse_nameserver


@pytest.mark.parametrize(
    ("value", "address"),
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        (" 127.0.0.1:5353 ", ("127.0.0.1", 5353)),
        ("::1", ("::1", 53)),
        ("[::1]", ("::1", 53)),
        ("[::1]:5353", ("::1", 5353)),
        ("[fd00::0001]:53", ("fd00::1", 53)),
    ],
)
def test_a_nameserver_is_an_address_and_a_port(value: str, address: tuple[str, int]) -> None:
    assert parse_nameserver(value) == address


@pytest.mark.parametrize(
    "value", ["dns.example.org", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:dns", "[::1]53", ""]
)
def test_anything_else_is_a_value_error(value: str) -> None:
    with pytest.raises(ValueError):
        parse_nameserver(value)


def test_the_section_means_the_system_resolver_when_empty_and_names_a_bad_value() -> None:
    assert DoctorSection().nameserver_address is None
    assert list(DoctorSection().problems()) == []
    assert DoctorSection(nameserver="127.0.0.1:5353").nameserver_address == ("127.0.0.1", 5353)
    ((key, problem),) = DoctorSection(nameserver="dns.example:53").problems()
    assert key == "nameserver"
    assert problem.endswith("got 'dns.example:53'")
