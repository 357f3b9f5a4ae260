"""Short MACs for what we write into headers: 13 characters of lower-case base 32, keyed
by the secret and a salt, so one kind is never valid as another."""

from __future__ import annotations

import re

import pytest

from newsletter.mail.signing import MAC_PATTERN, ShortMac
from tests.support.settings import SECRET


def test_a_mac_is_short_safe_in_a_local_part_and_the_same_every_time() -> None:
    mac = ShortMac(SECRET, b"salt-a:")
    signature = mac.sign("7.42")
    assert re.fullmatch(MAC_PATTERN, signature)
    assert signature == mac.sign("7.42") == ShortMac(SECRET, b"salt-a:").sign("7.42")
    assert signature != mac.sign("7.43")


def test_another_salt_or_key_makes_another_mac() -> None:
    signature = ShortMac(SECRET, b"salt-a:").sign("7.42")
    assert ShortMac(SECRET, b"salt-b:").sign("7.42") != signature
    assert ShortMac("another-secret", b"salt-a:").sign("7.42") != signature


def test_only_the_texts_own_mac_verifies() -> None:
    mac = ShortMac(SECRET, b"salt-a:")
    signature = mac.sign("7.42")
    assert mac.verifies("7.42", signature)
    assert not mac.verifies("7.43", signature)
    assert not mac.verifies("7.42", signature.upper())
    assert not mac.verifies("7.42", signature[:-1])
    assert not mac.verifies("7.42", "é" * 13)


def test_an_empty_secret_signs_nothing() -> None:
    with pytest.raises(ValueError, match="the secret key is empty"):
        ShortMac("", b"salt-a:")
