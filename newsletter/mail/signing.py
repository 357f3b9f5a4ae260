"""Short signatures for what we write into a mail's headers and read back when it returns.

A return path (``bounces+TOKEN@…``, :mod:`newsletter.mail.verp`) and a Message-ID
(``<edition.subscriber.MAC@…>``, :class:`newsletter.delivery.message_ids.MessageIds`) both
carry a MAC that only this installation can make: HMAC-SHA256 under the secret key, with
a salt of their own (so neither is ever valid as the other, or as a link token), cut to
64 bits and written in lower-case base 32: 13 characters of ``a-z2-7``. Lower case because
mail servers may lower-case a local part; no ``=``, ``/`` or ``+``, so it is safe in a
local part, a Message-ID and a URL alike. 64 bits because every guess has to be mailed to
us to be tried: an online guess has no chance.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

MAC_BYTES = 8
MAC_PATTERN = "[a-z2-7]{13}"  # MAC_BYTES in base 32, without padding


class ShortMac:
    """Signs and checks short ASCII texts under one secret key and one salt."""

    def __init__(self, secret: str, salt: bytes) -> None:
        if not secret:
            raise ValueError("the secret key is empty; nothing can be signed")
        self._keyed = hmac.new(secret.encode("utf-8"), salt, hashlib.sha256)

    def sign(self, text: str) -> str:
        mac = self._keyed.copy()
        mac.update(text.encode("ascii"))
        encoded = base64.b32encode(mac.digest()[:MAC_BYTES]).decode("ascii")
        return encoded.rstrip("=").lower()

    def verifies(self, text: str, signature: str) -> bool:
        """Whether ``signature`` is ``text``'s; in constant time."""
        return hmac.compare_digest(signature.encode("utf-8"), self.sign(text).encode("ascii"))
