"""The fast token maker writes exactly what itsdangerous writes, so old links and new
ones verify alike (itsdangerous is the reference here, and still does every reading)."""

from __future__ import annotations

import itertools

import pytest

from newsletter.errors import ConfigError, InvalidTokenError
from newsletter.mail.tokens import (
    TOKEN_PURPOSES,
    _serializer,
    make_token,
    read_token,
)

IDS = [0, 1, 7, 42, 999, 123_456, 2**31 - 1, 2**53 + 5, -3]
MOMENTS = [1.0, 255.9, 256.0, 1_764_600_000.5, 4_102_444_800.0]  # 1970 ... 2100
SECRETS = ["k", "een geheime sleutel met spaties", "sleutel-ü-€-🔑"]


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize("purpose", TOKEN_PURPOSES)
def test_tokens_are_byte_for_byte_those_of_itsdangerous(secret: str, purpose):
    for subscriber_id, moment in itertools.product(IDS, MOMENTS):
        clock = lambda moment=moment: moment  # noqa: E731
        reference = _serializer(secret, purpose, clock).dumps(subscriber_id)
        assert make_token(secret, purpose, subscriber_id, clock=clock) == reference
        assert read_token(secret, purpose, reference, clock=clock) == subscriber_id


def test_a_token_of_one_key_or_purpose_does_not_verify_under_another():
    token = make_token("sleutel", "unsubscribe", 42)
    assert read_token("sleutel", "unsubscribe", token) == 42
    with pytest.raises(InvalidTokenError, match="not valid"):
        read_token("andere sleutel", "unsubscribe", token)
    with pytest.raises(InvalidTokenError, match="not valid"):
        read_token("sleutel", "confirm", token)


def test_the_fast_maker_refuses_what_itsdangerous_refuses():
    with pytest.raises(ConfigError):
        make_token("", "unsubscribe", 1)
    with pytest.raises(ValueError, match="unknown token purpose"):
        make_token("k", "afmelden", 1)  # type: ignore[arg-type]
