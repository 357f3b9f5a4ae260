"""Signed subscriber references: round trip, uniqueness, and every way a token can be wrong."""

from __future__ import annotations

import re
import time

import pytest

from newsletter.errors import ConfigError, ExpiredTokenError, InputError, InvalidTokenError
from newsletter.mail.tokens import (
    TOKEN_PURPOSES,
    _serializer,
    make_token,
    read_token,
)
from tests.support.settings import SECRET


@pytest.mark.parametrize("purpose", TOKEN_PURPOSES)
def test_round_trip_for_every_purpose(purpose: str) -> None:
    token = make_token(SECRET, purpose, 1234)  # type: ignore[arg-type]
    assert read_token(SECRET, purpose, token) == 1234  # type: ignore[arg-type]


def test_tokens_are_url_safe_and_quoted_printable_safe() -> None:
    for subscriber_id in (1, 42, 10**12):
        token = make_token(SECRET, "unsubscribe", subscriber_id)
        assert re.fullmatch(r"[A-Za-z0-9_.-]+", token), token
        assert "=" not in token


def test_tokens_differ_per_subscriber_and_per_purpose() -> None:
    tokens = {make_token(SECRET, p, i) for p in TOKEN_PURPOSES for i in (1, 2, 3)}
    assert len(tokens) == 3 * len(TOKEN_PURPOSES)


def test_a_token_cannot_be_used_for_another_purpose() -> None:
    token = make_token(SECRET, "unsubscribe", 7)
    with pytest.raises(InvalidTokenError):
        read_token(SECRET, "confirm", token)


@pytest.mark.parametrize(
    "spoil",
    [
        # The second-to-last character: the last one of a base64 HMAC also holds padding
        # bits, and changing only those decodes to the same signature (about 1 run in 16).
        pytest.param(
            lambda t: t[:-2] + ("A" if t[-2] != "A" else "B") + t[-1], id="tampered-signature"
        ),
        pytest.param(lambda t: "OTk" + t[t.index(".") :], id="other-subscriber-id"),
        pytest.param(lambda t: t[: len(t) // 2], id="truncated"),
        pytest.param(lambda t: "", id="empty"),
        pytest.param(lambda t: "not a token at all", id="garbage"),
        pytest.param(lambda t: t + "é", id="non-ascii"),
        pytest.param(lambda t: t + "=", id="padding"),
        pytest.param(lambda t: t + "\n", id="newline"),
    ],
)
def test_spoiled_tokens_are_rejected(spoil: object) -> None:
    token = make_token(SECRET, "unsubscribe", 42)
    with pytest.raises(InvalidTokenError) as caught:
        read_token(SECRET, "unsubscribe", spoil(token))  # type: ignore[operator]
    assert isinstance(caught.value, InputError)


def test_a_token_signed_with_another_key_is_rejected() -> None:
    token = make_token("another-key", "unsubscribe", 42)
    with pytest.raises(InvalidTokenError):
        read_token(SECRET, "unsubscribe", token)


def test_max_age_expires_old_tokens() -> None:
    token = make_token(SECRET, "confirm", 5, clock=lambda: time.time() - 3600)
    with pytest.raises(ExpiredTokenError):
        read_token(SECRET, "confirm", token, max_age=60)
    assert read_token(SECRET, "confirm", token, max_age=7200) == 5
    assert read_token(SECRET, "confirm", token) == 5


def test_a_genuine_token_without_a_subscriber_id_is_rejected() -> None:
    token = _serializer(SECRET, "unsubscribe").dumps("42")
    with pytest.raises(InvalidTokenError, match="does not name a subscriber"):
        read_token(SECRET, "unsubscribe", token)


def test_an_empty_secret_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError):
        make_token("", "unsubscribe", 1)


def test_subscriber_id_must_be_an_int() -> None:
    with pytest.raises(TypeError):
        make_token(SECRET, "unsubscribe", True)
