"""Signed subscriber references for the links in a newsletter and on the website.

An unsubscribe, confirm, resubscribe, manage or move link carries a token instead of a bare
subscriber id, so nobody can unsubscribe someone else by changing a number in a URL. The token is an
itsdangerous signature over the id, salted with the link's *purpose*: an unsubscribe token
cannot be replayed as a confirm token. Tokens use the URL-safe base64 alphabet without
padding (letters, digits, ``-``, ``_`` and ``.``), so they need no escaping in a URL and never
contain ``=``, which quoted-printable would have to encode.

Making a token is on the send path (one per message, thousands a second), where
itsdangerous's object set-up and key derivation per call cost ~45 µs. So :func:`make_token`
writes the very same bytes itsdangerous's ``URLSafeTimedSerializer.dumps`` would (compact
JSON payload, big-endian timestamp, HMAC-SHA256 under the "django-concat" derived key,
URL-safe base64 without padding) with ``hmac`` directly and the keyed HMAC made once per
key and purpose; a test compares the two byte for byte. Reading tokens stays with
itsdangerous itself, so every link ever sent keeps verifying.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Literal, get_args

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from newsletter.errors import ConfigError, ExpiredTokenError, InvalidTokenError

# "manage": the reader's own page (every mail's footer); "move": confirm a new address.
TokenPurpose = Literal["unsubscribe", "confirm", "resubscribe", "manage", "move"]
TOKEN_PURPOSES: tuple[TokenPurpose, ...] = get_args(TokenPurpose)


Clock = Callable[[], float]

# payload.timestamp.signature, each URL-safe base64 without padding. base64 decoding skips
# characters outside its alphabet, so a token with junk appended would otherwise still verify.
# The inbound mail listener finds tokens in a subject with the same pattern.
TOKEN_PATTERN = r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"  # noqa: S105 (a regex)
_TOKEN_SHAPE = re.compile(TOKEN_PATTERN)


@functools.cache
def _signer_on(clock: Clock) -> type[TimestampSigner]:
    """itsdangerous's signer, reading the time from ``clock`` (stamping and checking age)."""
    if clock is time.time:
        return TimestampSigner

    class ClockedSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock())

    return ClockedSigner


def _serializer(
    secret: str, purpose: TokenPurpose, clock: Clock = time.time
) -> URLSafeTimedSerializer:
    if not secret:
        raise ConfigError("the secret key is empty; tokens cannot be signed")
    if purpose not in TOKEN_PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}; expected one of {TOKEN_PURPOSES}")
    return URLSafeTimedSerializer(
        secret,
        salt=f"newsletter.{purpose}",
        signer=_signer_on(clock),
        signer_kwargs={"digest_method": hashlib.sha256},
    )


def make_token(
    secret: str, purpose: TokenPurpose, subscriber_id: int, *, clock: Clock = time.time
) -> str:
    """Sign ``subscriber_id`` for one purpose; the result goes into a URL path as is."""
    if isinstance(subscriber_id, bool) or not isinstance(subscriber_id, int):
        raise TypeError(f"subscriber_id must be an int, got {type(subscriber_id).__name__}")
    signed = _b64(str(subscriber_id).encode()) + b"." + _timestamp(int(clock()))
    mac = _keyed_mac(secret, purpose).copy()
    mac.update(signed)
    return (signed + b"." + _b64(mac.digest())).decode("ascii")


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


@functools.lru_cache(maxsize=4)
def _timestamp(seconds: int) -> bytes:
    """itsdangerous's timestamp: the big-endian bytes of the seconds, leading zeros cut."""
    return _b64(seconds.to_bytes(8, "big").lstrip(b"\x00"))


@functools.lru_cache(maxsize=32)
def _keyed_mac(secret: str, purpose: TokenPurpose) -> hmac.HMAC:
    """HMAC-SHA256 keyed as itsdangerous's signer derives it: sha256(salt + "signer" + key)."""
    _serializer(secret, purpose)  # the same checks (empty key, unknown purpose)
    salt = f"newsletter.{purpose}".encode()
    key = hashlib.sha256(salt + b"signer" + secret.encode()).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


def read_token(
    secret: str,
    purpose: TokenPurpose,
    token: str,
    max_age: int | None = None,
    *,
    clock: Clock = time.time,
) -> int:
    """Return the subscriber id a token was made for.

    ``max_age`` (seconds) limits how old the token may be: confirmation links expire,
    unsubscribe links in old emails must keep working (pass ``None``). ``clock`` gives the
    time in seconds since the epoch, for stamping and for checking age.
    """
    return read_stamped_token(secret, purpose, token, max_age, clock=clock)[0]


def read_stamped_token(
    secret: str,
    purpose: TokenPurpose,
    token: str,
    max_age: int | None = None,
    *,
    clock: Clock = time.time,
) -> tuple[int, datetime]:
    """:func:`read_token`, and when the token was made (UTC, to the whole second): a
    confirm link only acts while nothing has happened to the reader since."""
    serializer = _serializer(secret, purpose, clock)
    if not _TOKEN_SHAPE.fullmatch(token):
        raise InvalidTokenError(f"the {purpose} link is not valid")
    try:
        value, made = serializer.loads(token, max_age=max_age, return_timestamp=True)
    except SignatureExpired:
        raise ExpiredTokenError(f"the {purpose} link has expired") from None
    except BadSignature:
        raise InvalidTokenError(f"the {purpose} link is not valid") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTokenError(f"the {purpose} link does not name a subscriber")
    return value, made
