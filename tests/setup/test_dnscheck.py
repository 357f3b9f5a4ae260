"""spf, dkim and dmarc against a real DNS server on loopback (``[doctor] nameserver``).

A correct zone passes every DNS check; then each fault alone makes exactly its own
check fail or warn, and the message says what to publish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from newsletter.setup import dnscheck, doctor
from newsletter.setup.records import dkim_record, generate_dkim_key

from .conftest import message, statuses, write_config
from .dns_server import Zone, dns_server

DOMAIN = "gerritvanderheide.nl"
FROM = f"nieuwsbrief@{DOMAIN}"
RELAY = "smtp.mailrelay.test"
RELAY_IP = "192.0.2.25"
SELECTOR = "nb2026"
DKIM_NAME = f"{SELECTOR}._domainkey.{DOMAIN}"
DNS_CHECKS = ("spf", "dkim", "dmarc")


@pytest.fixture(scope="module")
def dkim_key() -> str:
    return generate_dkim_key()


def correct_zone(dkim_key: str) -> Zone:
    zone = Zone()
    zone.set(DOMAIN, "MX", f"10 mx.{DOMAIN}")
    zone.set(f"mx.{DOMAIN}", "A", "192.0.2.10")
    zone.set(DOMAIN, "TXT", f"v=spf1 mx a:{RELAY} ~all", "google-site-verification=abc")
    zone.set(RELAY, "A", RELAY_IP)
    zone.set(DKIM_NAME, "TXT", dkim_record(DOMAIN, SELECTOR, dkim_key).value)
    zone.set(f"_dmarc.{DOMAIN}", "TXT", f"v=DMARC1; p=quarantine; rua=mailto:dmarc@{DOMAIN}")
    return zone


@pytest.fixture
def zone(dkim_key: str) -> Zone:
    return correct_zone(dkim_key)


@pytest.fixture
def nameserver(zone: Zone) -> Iterator[str]:
    with dns_server(zone) as address:
        yield address


@pytest.fixture
def config(tmp_path: Path, dkim_key: str) -> Path:
    key_file = tmp_path / "dkim-private.pem"
    key_file.write_text(dkim_key, encoding="ascii")
    return write_config(
        tmp_path / "config.toml",
        {
            "newsletter": {"from_address": FROM},
            "smtp": {"host": RELAY},
            "dkim": {"domain": DOMAIN, "selector": SELECTOR, "private_key_file": str(key_file)},
        },
    )


def run_dns_checks(config: Path, nameserver: str) -> list[doctor.Result]:
    results = doctor.run(config, {"NEWSLETTER_DOCTOR__NAMESERVER": nameserver}, only=DNS_CHECKS)
    assert [result.check for result in results] == ["config", *DNS_CHECKS]
    return results


def test_a_correct_zone_passes_every_dns_check(config: Path, nameserver: str, zone: Zone) -> None:
    results = run_dns_checks(config, nameserver)
    assert statuses(results) == {"config": "ok", "spf": "ok", "dkim": "ok", "dmarc": "ok"}
    assert message(results, "spf") == (
        f"{DOMAIN}: v=spf1 mx a:{RELAY} ~all (2/10 lookups) allows {RELAY} ({RELAY_IP})"
    )
    assert message(results, "dkim") == f"{DKIM_NAME} holds the public half of the configured key"
    assert message(results, "dmarc") == f"{DOMAIN}: p=quarantine, aligned through SPF and DKIM"
    # Every answer came from the test's server (the system resolver was never asked).
    assert (DKIM_NAME, "TXT") in zone.questions
    assert (f"_dmarc.{DOMAIN}", "TXT") in zone.questions


def _no_spf(zone: Zone, key: str) -> None:
    zone.set(DOMAIN, "TXT", "google-site-verification=abc")


def _spf_without_relay(zone: Zone, key: str) -> None:
    zone.set(DOMAIN, "TXT", "v=spf1 mx -all")


def _too_many_lookups(zone: Zone, key: str) -> None:
    includes = " ".join(f"include:spf{i}.{DOMAIN}" for i in range(10))
    zone.set(DOMAIN, "TXT", f"v=spf1 a:{RELAY} {includes} ~all")
    for i in range(10):
        zone.set(f"spf{i}.{DOMAIN}", "TXT", f"v=spf1 ip4:198.51.100.{i} -all")


def _dkim_mismatch(zone: Zone, key: str) -> None:
    zone.set(DKIM_NAME, "TXT", dkim_record(DOMAIN, SELECTOR, generate_dkim_key()).value)


def _dkim_missing(zone: Zone, key: str) -> None:
    zone.remove(DKIM_NAME, "TXT")


def _no_dmarc(zone: Zone, key: str) -> None:
    zone.remove(f"_dmarc.{DOMAIN}", "TXT")


def _dmarc_none(zone: Zone, key: str) -> None:
    zone.set(f"_dmarc.{DOMAIN}", "TXT", f"v=DMARC1; p=none; rua=mailto:dmarc@{DOMAIN}")


FAULTS: dict[str, tuple[Callable[[Zone, str], None], str, str, str]] = {
    # fault: (break the zone, check, status, the message's fix)
    "no SPF": (
        _no_spf,
        "spf",
        "fail",
        f'no SPF record at {DOMAIN}: publish TXT {DOMAIN} "v=spf1 mx a:{RELAY} ~all"',
    ),
    "SPF without the relay": (
        _spf_without_relay,
        "spf",
        "fail",
        f"the SPF record of {DOMAIN} does not allow the relay {RELAY} ({RELAY_IP}: fail), so "
        f"receivers treat its mail as forged: add a:{RELAY} or ip4:{RELAY_IP} (or the include: "
        "your relay documents) before the all",
    ),
    "more than 10 lookups": (
        _too_many_lookups,
        "spf",
        "fail",
        f"the SPF record of {DOMAIN} needs 11 DNS lookups, more than the 10 receivers allow "
        "(they then reject it as permerror): drop includes of services you no longer use, or "
        "replace them by their ip4:/ip6: ranges",
    ),
    "DKIM key mismatch": (
        _dkim_mismatch,
        "dkim",
        "fail",
        f"the key at {DKIM_NAME} is not the public half of the configured DKIM private key "
        "(rotated on one side only?), so every signature fails: publish TXT "
        f'{DKIM_NAME} "{{record}}"',
    ),
    "DKIM record missing": (
        _dkim_missing,
        "dkim",
        "fail",
        f'no DKIM record at {DKIM_NAME}: publish TXT {DKIM_NAME} "{{record}}"',
    ),
    "no DMARC": (
        _no_dmarc,
        "dmarc",
        "fail",
        f"no DMARC record for {DOMAIN} (Gmail and Yahoo require one of bulk senders): publish "
        f'TXT _dmarc.{DOMAIN} "v=DMARC1; p=none; rua=mailto:{FROM}; adkim=r; aspf=r"',
    ),
    "DMARC p=none": (
        _dmarc_none,
        "dmarc",
        "warn",
        f"the DMARC policy of {DOMAIN} is p=none (monitoring only: forged mail in your name is "
        "delivered too): once the reports show only your own mail, publish p=quarantine",
    ),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_alone_fails_or_warns_exactly_its_check_with_the_fix(
    fault: str, config: Path, nameserver: str, zone: Zone, dkim_key: str
) -> None:
    breaks, check, status, fix = FAULTS[fault]
    breaks(zone, dkim_key)
    results = run_dns_checks(config, nameserver)
    expected = {"config": "ok", "spf": "ok", "dkim": "ok", "dmarc": "ok", check: status}
    assert statuses(results) == expected, results
    record = dkim_record(DOMAIN, SELECTOR, dkim_key).value
    assert message(results, check) == fix.format(record=record)


def test_a_subdomain_sender_is_covered_by_the_organisational_dmarc_record(
    tmp_path: Path, zone: Zone, nameserver: str
) -> None:
    """news.gerritvanderheide.nl has no DMARC record of its own: receivers apply the one of
    gerritvanderheide.nl (its sp= when given), and the doctor does the same."""
    sender = f"nieuwsbrief@news.{DOMAIN}"
    zone.set(f"news.{DOMAIN}", "MX", f"10 mx.{DOMAIN}")
    zone.set(f"news.{DOMAIN}", "TXT", f"v=spf1 a:{RELAY} -all")
    zone.set(f"_dmarc.{DOMAIN}", "TXT", "v=DMARC1; p=reject; sp=none")
    config = write_config(
        tmp_path / "config.toml", {"newsletter": {"from_address": sender}, "smtp": {"host": RELAY}}
    )
    results = doctor.run(config, {"NEWSLETTER_DOCTOR__NAMESERVER": nameserver}, only=["dmarc"])
    assert statuses(results)["dmarc"] == "warn"
    assert message(results, "dmarc").startswith(f"the DMARC policy of news.{DOMAIN} is p=none")


@pytest.mark.parametrize(
    ("domain", "mode", "aligned"),
    [
        (DOMAIN, "s", True),
        (f"bounces.{DOMAIN}", "r", True),
        (f"bounces.{DOMAIN}", "s", False),
        ("mailrelay.test", "r", False),
    ],
)
def test_alignment_is_strict_or_by_organisational_domain(
    domain: str, mode: str, aligned: bool
) -> None:
    assert dnscheck.aligned(domain, DOMAIN, mode) is aligned


def test_a_failing_nameserver_fails_the_dns_checks_with_one_line_each(
    config: Path, nameserver: str, zone: Zone
) -> None:
    """The server answers SERVFAIL to everything: every DNS check fails, none raises."""
    zone.servfail = True
    results = run_dns_checks(config, nameserver)
    assert statuses(results) == {"config": "ok", "spf": "fail", "dkim": "fail", "dmarc": "fail"}
    for result in results[1:]:
        assert "\n" not in result.message
        assert "DNS" in result.message, result.message
