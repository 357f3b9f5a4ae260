"""The sections of sending: the relay's keys and the DKIM signature's."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import DkimSection, SmtpSection


def keys(section: SmtpSection | DkimSection) -> list[str]:
    return [key for key, _ in section.problems()]


def test_the_default_relay_keys_pass() -> None:
    assert keys(SmtpSection()) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"transport": "smtp"}, ["host"]),
        ({"port": 70000}, ["port"]),
        ({"connections": 0}, ["connections"]),
        ({"max_per_second": -1.0, "max_per_day": -1}, ["max_per_second", "max_per_day"]),
        ({"timeout": 0.0}, ["timeout"]),
        ({"messages_per_connection": 0}, ["messages_per_connection"]),
        ({"retry_first_minutes": 0.0}, ["retry_first_minutes"]),
        ({"retry_first_minutes": 90.0, "retry_max_hours": 1.0}, ["retry_max_hours"]),
        ({"lease_minutes": 0.0}, ["lease_minutes"]),
    ],
)
def test_relay_keys_that_make_no_sense(changes: dict, expected: list[str]) -> None:
    assert keys(SmtpSection(**changes)) == expected


def test_a_ca_file_must_be_an_existing_file(tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    assert keys(SmtpSection(ca_file=str(ca_file))) == ["ca_file"]
    ca_file.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    assert keys(SmtpSection(ca_file=str(ca_file))) == []
    assert keys(SmtpSection(ca_file=str(tmp_path))) == ["ca_file"]


def test_dkim_needs_both_domain_and_selector_or_neither() -> None:
    assert keys(DkimSection()) == []
    assert keys(DkimSection(domain="example.org", selector="nb")) == []
    assert keys(DkimSection(domain="example.org")) == ["selector"]
    assert keys(DkimSection(selector="nb")) == ["domain"]
