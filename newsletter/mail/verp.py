"""VERP: a return path per message, so a bounce names the delivery it belongs to.

With ``[bounces] address = "bounces@example.org"`` the envelope sender (MAIL FROM) of
each edition message becomes ``bounces+TOKEN@example.org``. Whatever comes back to that
address, however mangled the report, was sent to the envelope recipient carrying the
token: the receiving side never has to trust the addresses a bounce claims.

TOKEN is ``<delivery id in base 36>-<MAC>``: the id signed as :mod:`newsletter.mail.signing`
signs (HMAC-SHA256 under the secret key with a salt of its own, so it is no unsubscribe
token and no Message-ID; 64 bits in lower-case base 32). Lower case and ``-`` only,
because mail servers may lower-case a local part and some treat other characters
specially. A forged or damaged token is rejected; it never names another delivery.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from newsletter.config import BouncesSection
from newsletter.mail.signing import MAC_PATTERN, ShortMac

_SALT = b"newsletter.bounce-return-path:"
_TOKEN = re.compile(rf"([0-9a-z]{{1,13}})-({MAC_PATTERN})")
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _DIGITS[rest] + digits
        if number == 0:
            return digits


class ReturnPaths:
    """Makes and reads the ``bounces+TOKEN@domain`` addresses of one installation."""

    def __init__(self, bounce_address: str, secret: str) -> None:
        local, _, domain = bounce_address.lower().rpartition("@")
        self._local = local
        self._domain = domain
        self._mac = ShortMac(secret, _SALT)

    def token(self, delivery_id: int) -> str:
        encoded = _base36(delivery_id)
        return f"{encoded}-{self._mac.sign(encoded)}"

    def for_delivery(self, delivery_id: int) -> str:
        """The envelope sender of the message of delivery ``delivery_id``."""
        return f"{self._local}+{self.token(delivery_id)}@{self._domain}"

    def is_ours(self, address: str) -> bool:
        """Whether ``address`` is the bounce address or one of its ``+TOKEN`` forms."""
        local, _, domain = address.strip().strip("<>").lower().rpartition("@")
        return domain == self._domain and local.partition("+")[0] == self._local

    def token_of(self, address: str) -> str | None:
        """The part after ``+`` when ``address`` is one of ours, else None."""
        if not self.is_ours(address):
            return None
        local = address.strip().strip("<>").lower().rpartition("@")[0]
        _, plus, token = local.partition("+")
        return token if plus else None

    def delivery_of(self, token: str) -> int | None:
        """The delivery a genuine token names; None for anything forged or damaged."""
        match = _TOKEN.fullmatch(token.lower())
        if match is None:
            return None
        encoded, signature = match.groups()
        if not self._mac.verifies(encoded, signature):
            return None
        return int(encoded, 36)


def return_paths(bounces: BouncesSection, signing_key: Callable[[], str]) -> ReturnPaths | None:
    """The VERP return paths when ``[bounces] address`` is set; None keeps ``from_address``.

    The key is asked for only then: an installation without VERP needs none for this.
    """
    if not bounces.address:
        return None
    return ReturnPaths(bounces.address, signing_key())
