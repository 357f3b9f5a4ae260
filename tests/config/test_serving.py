"""The sections of what the daemon serves: the web app's hosts and proxies, the SMTP listener."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import InboundSection, WebSection, load_settings
from newsletter.config.serving import as_host_header
from newsletter.errors import ConfigError
from tests.support.settings import BASE_URL

BASE_HOST = "nieuwsbrief.gerritvanderheide.com"


def test_trusted_hosts_from_the_environment_and_toml(tmp_path: Path) -> None:
    def hosts(value: str) -> tuple[str, ...]:
        return load_settings(environ={"NEWSLETTER_WEB__TRUSTED_HOSTS": value}).trusted_hosts

    loopback = {"127.0.0.1", "localhost", "[::1]"}
    assert set(load_settings(environ={}).trusted_hosts) == loopback
    public = load_settings(environ={"NEWSLETTER_NEWSLETTER__BASE_URL": BASE_URL})
    assert set(public.trusted_hosts) == {BASE_HOST, *loopback}
    assert hosts('["a.example.org", "*.example.net"]') == ("a.example.org", "*.example.net")
    assert hosts("a.example.org, b.example.org") == ("a.example.org", "b.example.org")
    config = tmp_path / "config.toml"
    config.write_text('[web]\ntrusted_hosts = ["x.example.org"]\n')
    assert load_settings(config, environ={}).trusted_hosts == ("x.example.org",)
    for bad in ("https://a.example.org", "a.example.org:443", "a.*.org", '["a", 1]', "[oops"):
        with pytest.raises(ConfigError) as refused:
            hosts(bad)
        message = str(refused.value)
        assert "web.trusted_hosts" in message and "NEWSLETTER_WEB__TRUSTED_HOSTS" in message
        assert "\n" not in message


def test_trusted_proxies_are_addresses_or_networks(tmp_path: Path) -> None:
    def proxies(value: str) -> tuple[str, ...]:
        environ = {"NEWSLETTER_WEB__TRUSTED_PROXIES": value}
        return load_settings(environ=environ).web.trusted_proxies

    assert load_settings(environ={}).web.trusted_proxies == ()
    assert proxies("127.0.0.1, ::1, 10.0.0.0/8") == ("127.0.0.1", "::1", "10.0.0.0/8")
    config = tmp_path / "config.toml"
    config.write_text('[web]\ntrusted_proxies = ["fd00::/8"]\n')
    assert load_settings(config, environ={}).web.trusted_proxies == ("fd00::/8",)
    for bad in ("*", "localhost", "10.0.0.1/8", "[::1]", "127.0.0.1:80", '["127.0.0.1", 1]'):
        with pytest.raises(ConfigError) as refused:
            proxies(bad)
        message = str(refused.value)
        assert "web.trusted_proxies" in message and "NEWSLETTER_WEB__TRUSTED_PROXIES" in message
        assert "\n" not in message


def test_recording_the_consent_ip_is_on_unless_switched_off(tmp_path: Path) -> None:
    assert load_settings(environ={}).web.record_consent_ip is True
    config = tmp_path / "config.toml"
    config.write_text("[web]\nrecord_consent_ip = false\n")
    assert load_settings(config, environ={}).web.record_consent_ip is False
    environ = {"NEWSLETTER_WEB__RECORD_CONSENT_IP": "false"}
    assert load_settings(environ=environ).web.record_consent_ip is False
    config.write_text('[web]\nrecord_consent_ip = "nee"\n')
    with pytest.raises(ConfigError, match=r"web\.record_consent_ip") as refused:
        load_settings(config, environ={})
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    "host",
    ["*", "*.example.org", "a.example.org", "a.example.org.", "10.0.0.1", "[::1]", "fd00::1"],
)
def test_trusted_host_forms_a_person_may_write(host: str) -> None:
    assert list(WebSection(trusted_hosts=(host,)).problems()) == []


def test_an_ipv6_address_is_bracketed_as_a_host_header_carries_it() -> None:
    assert as_host_header("::1") == "[::1]"
    assert as_host_header("[::1]") == "[::1]"
    assert as_host_header("127.0.0.1") == "127.0.0.1"
    assert as_host_header("nb.example.org") == "nb.example.org"


def test_the_listener_needs_a_session_and_a_timeout() -> None:
    assert list(InboundSection().problems()) == []
    assert [key for key, _ in InboundSection(max_sessions=0, timeout=-1).problems()] == [
        "max_sessions",
        "timeout",
    ]
