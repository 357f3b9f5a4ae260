"""DKIM signatures (rsa-sha256, relaxed/relaxed) for every message we send, when configured.

Editions, review copies and confirmation mails are all signed by this one signer, so a
relay or a receiver sees the same signature on everything that comes from the list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from newsletter.config import DkimSection, Secret
from newsletter.errors import ConfigError

DKIM_SIGNED_HEADERS = (
    b"From",
    b"To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"Reply-To",
    b"MIME-Version",
    b"Content-Type",
    b"List-Id",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
    # Gmail counts a Feedback-ID only when a DKIM signature of the sender's domain covers it.
    b"Feedback-ID",
)


_DKIM_PROBE = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: probe\r\n\r\nprobe\r\n"


class DkimSigner:
    """Adds a DKIM-Signature (rsa-sha256, relaxed/relaxed) covering the list headers too."""

    def __init__(self, domain: str, selector: str, private_key: str) -> None:
        # dkimpy loads dnspython, a third of a second of every send's start: only when signing.
        import dkim

        self._dkim_sign: Callable[..., Any] = dkim.sign
        try:
            self._domain = domain.encode("ascii")
            self._selector = selector.encode("ascii")
            self._key = private_key.encode("ascii")
            self.sign(_DKIM_PROBE)
        except Exception as exc:  # dkimpy raises several unrelated types for a bad key
            raise ConfigError(f"the DKIM private key cannot sign: {exc}") from None

    def sign(self, message: bytes) -> bytes:
        signature = cast(
            bytes,
            self._dkim_sign(
                message,
                self._selector,
                self._domain,
                self._key,
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=list(DKIM_SIGNED_HEADERS),
                linesep=b"\r\n",
            ),
        )
        return signature + message


def dkim_signer(section: DkimSection, private_key: Secret | None) -> DkimSigner | None:
    """The configured signer, or None without ``[dkim]``; a key that cannot sign is a
    configuration error now, not a failure at the first message."""
    if not section.domain or private_key is None:
        return None
    return DkimSigner(section.domain, section.selector, private_key.reveal())
