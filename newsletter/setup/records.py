"""The DNS records a sending domain publishes, as text. Pure (no DNS, no files).

``init`` prints them and ``doctor`` names them in its fixes, from this one place, so the
record a user is told to publish is the record the check expects.
"""

from __future__ import annotations

import base64
import ipaddress
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from newsletter.errors import ConfigError

DKIM_KEY_BITS = 2048


@dataclass(frozen=True)
class DnsRecord:
    """One record to publish: ``name`` is the full owner name, ``value`` the TXT text."""

    name: str
    type: str
    value: str
    note: str = ""

    @property
    def shown(self) -> str:
        """The value as a zone file writes it: TXT text in quotes, anything else as is."""
        return f'"{self.value}"' if self.type == "TXT" else self.value


def generate_dkim_key() -> str:
    """A new RSA 2048 private key in PKCS#8 PEM: the size every receiver accepts and that
    still fits one TXT record (4096-bit keys need splitting that many DNS panels get wrong)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=DKIM_KEY_BITS)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def dkim_public_key(private_key_pem: str) -> rsa.RSAPublicKey:
    """The public half of the configured DKIM key; a key that is no RSA key is a config error."""
    try:
        key = serialization.load_pem_private_key(private_key_pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise ConfigError(f"the DKIM private key cannot be read: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError("the DKIM private key must be an RSA key (rsa-sha256)")
    return key.public_key()


def dkim_key_text(public_key: rsa.RSAPublicKey) -> str:
    """The ``p=`` value: base64 of the SubjectPublicKeyInfo (RFC 6376 3.6.1)."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


def dkim_record(domain: str, selector: str, private_key_pem: str) -> DnsRecord:
    key = dkim_key_text(dkim_public_key(private_key_pem))
    return DnsRecord(
        f"{selector}._domainkey.{domain}",
        "TXT",
        f"v=DKIM1; k=rsa; p={key}",
        "the public half of dkim-private.pem; most DNS panels split it into 255-character "
        "strings themselves",
    )


def spf_record(domain: str, relay_host: str) -> DnsRecord:
    """A starting SPF record: the domain's own mail servers plus the relay.

    A hosted relay publishes its own SPF record to include (``include:mailgun.org``,
    ``include:amazonses.com`` ...); a relay of one's own is named by its address. We
    cannot know which, so the hint names the relay host with ``a:`` and says so.
    """
    relay = f" {relay_mechanism(relay_host)}" if relay_host else ""
    return DnsRecord(
        domain,
        "TXT",
        f"v=spf1 mx{relay} ~all",
        "merge with an existing v=spf1 record (a domain may have only one); for a hosted "
        "relay use the include: its documentation names instead of a:",
    )


def relay_mechanism(relay_host: str) -> str:
    """``a:HOST`` for a relay named by host name, ``ip4:``/``ip6:`` for one named by address."""
    try:
        address = ipaddress.ip_address(relay_host)
    except ValueError:
        return f"a:{relay_host}"
    return f"ip{address.version}:{address}"


def dmarc_record(domain: str, report_address: str) -> DnsRecord:
    """A starting DMARC policy: p=none with aggregate reports, then tighten (see doctor)."""
    return DnsRecord(
        f"_dmarc.{domain}",
        "TXT",
        f"v=DMARC1; p=none; rua=mailto:{report_address}; adkim=r; aspf=r",
        "start with p=none and read the reports for a few weeks, then p=quarantine",
    )


def bounce_mx_note(domain: str, bounce_address: str) -> DnsRecord:
    """The MX a bounce domain needs: its value is the provider's, so this is a note to check."""
    return DnsRecord(
        domain,
        "MX",
        "10 MAILSERVER-OF-YOUR-PROVIDER",
        f"bounces come back to {bounce_address}: its domain needs an MX (your mail provider "
        "names it; keep one that is there) and a mailbox (imap.host reads it)",
    )


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower().rstrip(".")
