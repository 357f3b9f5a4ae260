"""The DNS records ``init`` prints: each one a receiver accepts as written, for a relay
named by host name or by address. (Whether published records pass is ``test_dnscheck``.)"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from newsletter.errors import ConfigError
from newsletter.setup import records


def test_the_dkim_record_holds_the_public_half_of_a_2048_bit_key() -> None:
    private = records.generate_dkim_key()
    record = records.dkim_record("example.nl", "nb1", private)
    assert (record.name, record.type) == ("nb1._domainkey.example.nl", "TXT")
    assert record.value.startswith("v=DKIM1; k=rsa; p=")
    der = base64.b64decode(record.value.split("p=")[1])
    public = serialization.load_der_public_key(der)
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.public_numbers() == records.dkim_public_key(private).public_numbers()
    assert records.dkim_public_key(private).key_size == records.DKIM_KEY_BITS
    assert record.shown == f'"{record.value}"'


def test_a_key_that_is_no_rsa_key_is_a_config_error() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ConfigError, match="must be an RSA key"):
        records.dkim_public_key(ec_key.decode("ascii"))
    with pytest.raises(ConfigError, match="cannot be read"):
        records.dkim_public_key("geen sleutel")


@pytest.mark.parametrize(
    ("relay", "value"),
    [
        ("smtp.example.net", "v=spf1 mx a:smtp.example.net ~all"),
        ("192.0.2.25", "v=spf1 mx ip4:192.0.2.25 ~all"),
        ("2001:db8::25", "v=spf1 mx ip6:2001:db8::25 ~all"),
        ("", "v=spf1 mx ~all"),
    ],
)
def test_spf_names_the_relay_by_host_or_address(relay: str, value: str) -> None:
    assert records.spf_record("example.nl", relay).value == value


def test_dmarc_starts_at_none_with_reports_and_the_mx_is_a_note() -> None:
    dmarc = records.dmarc_record("example.nl", "dmarc@example.nl")
    assert dmarc.name == "_dmarc.example.nl"
    assert dmarc.value == "v=DMARC1; p=none; rua=mailto:dmarc@example.nl; adkim=r; aspf=r"
    mx = records.bounce_mx_note("example.nl", "bounces@example.nl")
    assert (mx.type, mx.shown) == ("MX", "10 MAILSERVER-OF-YOUR-PROVIDER")
    assert records.domain_of("Bounces@Example.NL.") == "example.nl"
