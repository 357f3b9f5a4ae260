"""The DKIM signer: what it covers, that it verifies, and a key that cannot sign refused
when the signer is made, not at the first message."""

from __future__ import annotations

import email

import dkim
import pytest

from newsletter.config import DkimSection, Secret
from newsletter.delivery.dkim import DkimSigner, dkim_signer
from newsletter.errors import ConfigError
from tests.support.fixtures import DkimKey

MESSAGE = (
    b"From: Gerrit <nieuwsbrief@gerritvanderheide.com>\r\nTo: piet@voorbeeld.nl\r\n"
    b"Subject: Rust\r\nList-Unsubscribe: <https://nieuwsbrief.gerritvanderheide.com/u/x>\r\n"
    b"\r\nHallo Piet,\r\n"
)


def test_no_signer_without_a_domain_or_a_key(dkim_key: DkimKey) -> None:
    assert dkim_signer(DkimSection(), Secret(dkim_key.private_pem)) is None
    assert dkim_signer(DkimSection(domain="example.org", selector="nb"), None) is None


def test_a_signed_message_verifies_and_covers_the_list_headers(dkim_key: DkimKey) -> None:
    signer = dkim_signer(
        DkimSection(domain="gerritvanderheide.com", selector="nb2026"),
        Secret(dkim_key.private_pem),
    )
    assert signer is not None
    signed = signer.sign(MESSAGE)
    assert signed.endswith(MESSAGE)
    assert dkim.verify(signed, dnsfunc=dkim_key.dns)
    header = email.message_from_bytes(signed)["DKIM-Signature"]
    fields = dict(part.strip().split("=", 1) for part in "".join(header.split()).split(";") if part)
    assert (fields["d"], fields["s"], fields["c"]) == (
        "gerritvanderheide.com",
        "nb2026",
        "relaxed/relaxed",
    )
    assert {"from", "to", "subject", "list-unsubscribe"} <= set(fields["h"].lower().split(":"))
    assert not dkim.verify(signed.replace(b"Hallo Piet", b"Hallo Kees"), dnsfunc=dkim_key.dns)


def test_a_domain_that_is_not_ascii_is_a_config_error(dkim_key: DkimKey) -> None:
    with pytest.raises(ConfigError, match="the DKIM private key cannot sign"):
        DkimSigner("gerrit-é.nl", "nb", dkim_key.private_pem)


@pytest.mark.parametrize(
    "key", ["-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n", "sleutel é"]
)
def test_a_dkim_key_that_cannot_sign_is_a_config_error_before_sending(key: str):
    with pytest.raises(ConfigError, match="the DKIM private key cannot sign"):
        DkimSigner("example.org", "nieuwsbrief", key)
