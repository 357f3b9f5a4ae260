"""Signed subscriber references for the links in a newsletter and on the website.

An unsubscribe, confirm or resubscribe link carries a token instead of a bare subscriber id,
so nobody can unsubscribe someone else by changing a number in a URL. The token is an
itsdangerous signature over the id, salted with the link's *purpose*: an unsubscribe token
cannot be replayed as a confirm token. Tokens use the URL-safe base64 alphabet without
padding (letters, digits, ``-``, ``_`` and ``.``), so they need no escaping in a URL and never
contain ``=``, which quoted-printable would have to encode.
"""

from __future__ import annotations

import hashlib
import re
from typing import Literal, get_args

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .errors import ConfigError, InputError

TokenPurpose = Literal["unsubscribe", "confirm", "resubscribe"]
TOKEN_PURPOSES: tuple[TokenPurpose, ...] = get_args(TokenPurpose)


# payload.timestamp.signature, each URL-safe base64 without padding. base64 decoding skips
# characters outside its alphabet, so a token with junk appended would otherwise still verify.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class InvalidTokenError(InputError):
    """A token that was tampered with, cut short, signed with another key or for another purpose."""


class ExpiredTokenError(InvalidTokenError):
    """A genuine token that is older than the caller allows (the page can offer a fresh link)."""


def _serializer(secret: str, purpose: TokenPurpose) -> URLSafeTimedSerializer:
    if not secret:
        raise ConfigError("the secret key is empty; tokens cannot be signed")
    if purpose not in TOKEN_PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}; expected one of {TOKEN_PURPOSES}")
    return URLSafeTimedSerializer(
        secret, salt=f"newsletter.{purpose}", signer_kwargs={"digest_method": hashlib.sha256}
    )


def make_token(secret: str, purpose: TokenPurpose, subscriber_id: int) -> str:
    """Sign ``subscriber_id`` for one purpose; the result goes into a URL path as is."""
    if isinstance(subscriber_id, bool) or not isinstance(subscriber_id, int):
        raise TypeError(f"subscriber_id must be an int, got {type(subscriber_id).__name__}")
    token = _serializer(secret, purpose).dumps(subscriber_id)
    assert isinstance(token, str)
    return token


def read_token(secret: str, purpose: TokenPurpose, token: str, max_age: int | None = None) -> int:
    """Return the subscriber id a token was made for.

    ``max_age`` (seconds) limits how old the token may be: confirmation links expire,
    unsubscribe links in old emails must keep working (pass ``None``).
    """
    serializer = _serializer(secret, purpose)
    if not _TOKEN_SHAPE.fullmatch(token):
        raise InvalidTokenError(f"the {purpose} link is not valid")
    try:
        value = serializer.loads(token, max_age=max_age)
    except SignatureExpired:
        raise ExpiredTokenError(f"the {purpose} link has expired") from None
    except BadSignature:
        raise InvalidTokenError(f"the {purpose} link is not valid") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTokenError(f"the {purpose} link does not name a subscriber")
    return value
