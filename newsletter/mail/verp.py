"""VERP: a return path per message, so a bounce names the delivery it belongs to.

With ``[bounces] address = "bounces@example.org"`` the envelope sender (MAIL FROM) of
each edition message becomes ``bounces+TOKEN@example.org``. Whatever comes back to that
address, however mangled the report, was sent to the envelope recipient carrying the
token: the receiving side never has to trust the addresses a bounce claims.

TOKEN is ``<delivery id in base 36>-<HMAC>``: the HMAC-SHA256 of the id under the secret
key (with its own salt, so it is no unsubscribe token), cut to 64 bits and written in
lower-case base 32. Lower case and ``-`` only, because mail servers may lower-case a
local part and some treat other characters specially; no ``=`` or ``/``, so it is safe in
a URL too. A forged or damaged token is rejected; it never names another delivery.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from newsletter.config import Settings

_SALT = b"newsletter.bounce-return-path:"
_MAC_BYTES = 8  # 64 bits: 13 base-32 characters; an online guess has no chance
_TOKEN = re.compile(r"([0-9a-z]{1,13})-([a-z2-7]{13})")
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
        if not secret:
            raise ValueError("the secret key is empty; return paths cannot be signed")
        local, _, domain = bounce_address.lower().rpartition("@")
        self._local = local
        self._domain = domain
        self._mac = hmac.new(secret.encode("utf-8"), _SALT, hashlib.sha256)

    def _signature(self, encoded_id: str) -> str:
        mac = self._mac.copy()
        mac.update(encoded_id.encode("ascii"))
        return base64.b32encode(mac.digest()[:_MAC_BYTES]).decode("ascii").rstrip("=").lower()

    def token(self, delivery_id: int) -> str:
        encoded = _base36(delivery_id)
        return f"{encoded}-{self._signature(encoded)}"

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
        if not hmac.compare_digest(signature, self._signature(encoded)):
            return None
        return int(encoded, 36)


def return_paths(settings: Settings) -> ReturnPaths | None:
    """The VERP return paths when ``[bounces] address`` is set; None keeps ``from_address``."""
    if not settings.bounces.address:
        return None
    return ReturnPaths(settings.bounces.address, settings.signing_key())
