"""The bounce address against a real DNS server on loopback: ``bounce_mx``, and the return
path's domain in ``spf`` and ``dmarc`` (the envelope sender is ``bounces+TOKEN@`` it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from newsletter.config import load_settings
from newsletter.setup import dnscheck, doctor
from newsletter.setup.records import generate_dkim_key

from .conftest import message, statuses, write_config
from .dns_server import Zone, dns_server
from .test_dnscheck import DOMAIN, FROM, RELAY, RELAY_IP, SELECTOR, correct_zone

BOUNCE_DOMAIN = f"post.{DOMAIN}"
BOUNCES = f"bounces@{BOUNCE_DOMAIN}"
CHECKS = ("spf", "dkim", "dmarc", "bounce_mx")


@pytest.fixture(scope="module")
def dkim_key() -> str:
    return generate_dkim_key()


@pytest.fixture
def zone(dkim_key: str) -> Zone:
    zone = correct_zone(dkim_key)
    zone.set(BOUNCE_DOMAIN, "MX", f"10 mx.{DOMAIN}")
    zone.set(BOUNCE_DOMAIN, "TXT", f"v=spf1 a:{RELAY} -all")
    return zone


@pytest.fixture
def nameserver(zone: Zone) -> Iterator[str]:
    with dns_server(zone) as address:
        yield address


def make_config(
    directory: Path, dkim_key: str, *, bounces: str = BOUNCES, dkim: bool = True
) -> Path:
    key_file = directory / "dkim-private.pem"
    key_file.write_text(dkim_key, encoding="ascii")
    sections: dict[str, dict[str, object]] = {
        "newsletter": {"from_address": FROM},
        "smtp": {"host": RELAY},
        "bounces": {"address": bounces},
    }
    if dkim:
        sections["dkim"] = {
            "domain": DOMAIN,
            "selector": SELECTOR,
            "private_key_file": str(key_file),
        }
    return write_config(directory / "config.toml", sections)


@pytest.fixture
def config(tmp_path: Path, dkim_key: str) -> Path:
    return make_config(tmp_path, dkim_key)


def run_checks(config: Path, nameserver: str) -> list[doctor.Result]:
    return doctor.run(config, {"NEWSLETTER_DOCTOR__NAMESERVER": nameserver}, only=CHECKS)


def test_a_correct_bounce_domain_passes_and_spf_covers_both_domains(
    config: Path, nameserver: str, zone: Zone
) -> None:
    results = run_checks(config, nameserver)
    assert statuses(results) == {
        "config": "ok",
        "spf": "ok",
        "dkim": "ok",
        "dmarc": "ok",
        "bounce_mx": "ok",
    }
    assert (
        message(results, "bounce_mx")
        == f"{BOUNCE_DOMAIN} takes mail for {BOUNCES} (MX mx.{DOMAIN})"
    )
    spf = message(results, "spf")
    assert f"{DOMAIN}: v=spf1 mx a:{RELAY} ~all" in spf
    assert f"{BOUNCE_DOMAIN}: v=spf1 a:{RELAY} -all (1/10 lookups) allows {RELAY}" in spf
    assert (BOUNCE_DOMAIN, "MX") in zone.questions


def test_the_return_path_is_the_bounce_domain_when_set(tmp_path: Path, dkim_key: str) -> None:
    with_bounces = load_settings(make_config(tmp_path, dkim_key), environ={})
    assert dnscheck.return_path(with_bounces) == BOUNCES
    assert dnscheck.spf_senders(with_bounces) == [FROM, BOUNCES]
    without = load_settings(make_config(tmp_path, dkim_key, bounces=""), environ={})
    assert dnscheck.return_path(without) == FROM
    assert dnscheck.spf_senders(without) == [FROM]


def test_a_bounce_domain_without_mx_fails_only_bounce_mx(
    config: Path, nameserver: str, zone: Zone
) -> None:
    zone.remove(BOUNCE_DOMAIN, "MX")
    results = run_checks(config, nameserver)
    assert statuses(results) == {
        "config": "ok",
        "spf": "ok",
        "dkim": "ok",
        "dmarc": "ok",
        "bounce_mx": "fail",
    }
    assert message(results, "bounce_mx") == (
        f"{BOUNCE_DOMAIN} has no MX, so bounces to {BOUNCES} are lost: publish the MX record "
        f"your mail provider names for {BOUNCE_DOMAIN}, with a mailbox for {BOUNCES} (or set "
        "bounces.address to an address of a domain that takes mail)"
    )


def test_a_null_mx_fails_bounce_mx(config: Path, nameserver: str, zone: Zone) -> None:
    zone.set(BOUNCE_DOMAIN, "MX", "0 .")
    results = run_checks(config, nameserver)
    assert statuses(results)["bounce_mx"] == "fail"
    assert message(results, "bounce_mx").startswith(f"{BOUNCE_DOMAIN} says it takes no mail")


def test_a_return_path_domain_without_spf_fails_spf_for_it(
    config: Path, nameserver: str, zone: Zone
) -> None:
    zone.set(BOUNCE_DOMAIN, "TXT", "google-site-verification=xyz")
    results = run_checks(config, nameserver)
    assert statuses(results) == {
        "config": "ok",
        "spf": "fail",
        "dkim": "ok",
        "dmarc": "ok",
        "bounce_mx": "ok",
    }
    assert message(results, "spf") == (
        f'no SPF record at {BOUNCE_DOMAIN}: publish TXT {BOUNCE_DOMAIN} "v=spf1 mx a:{RELAY} ~all"'
    )


def test_a_return_path_domain_whose_spf_lacks_the_relay_fails_spf(
    config: Path, nameserver: str, zone: Zone
) -> None:
    zone.set(BOUNCE_DOMAIN, "TXT", "v=spf1 mx -all")
    results = run_checks(config, nameserver)
    assert statuses(results)["spf"] == "fail"
    assert message(results, "spf").startswith(
        f"the SPF record of {BOUNCE_DOMAIN} does not allow the relay {RELAY} ({RELAY_IP}: fail)"
    )


def test_dmarc_fails_when_neither_the_return_path_nor_dkim_can_align(
    tmp_path: Path, dkim_key: str, nameserver: str, zone: Zone
) -> None:
    """A bounce address at the relay's domain and no DKIM signature of ours: SPF passes
    for mailrelay.test, which is not the From domain, so every message fails DMARC."""
    zone.set("mailrelay.test", "MX", f"10 {RELAY}")
    zone.set("mailrelay.test", "TXT", f"v=spf1 a:{RELAY} -all")
    config = make_config(tmp_path, dkim_key, bounces="bounces@mailrelay.test", dkim=False)
    results = run_checks(config, nameserver)
    assert statuses(results) == {
        "config": "ok",
        "spf": "ok",
        "dkim": "warn",
        "dmarc": "fail",
        "bounce_mx": "ok",
    }
    assert message(results, "dmarc") == (
        "neither the return path (mailrelay.test) nor a DKIM signature of the newsletter "
        f'aligns with {DOMAIN}, so every message fails DMARC: sign with [dkim] domain = "{DOMAIN}"'
    )


def test_without_a_bounce_address_bounce_mx_is_not_reported(
    tmp_path: Path, dkim_key: str, nameserver: str
) -> None:
    config = make_config(tmp_path, dkim_key, bounces="")
    results = run_checks(config, nameserver)
    assert "bounce_mx" not in statuses(results)
    assert statuses(results)["spf"] == "ok"
