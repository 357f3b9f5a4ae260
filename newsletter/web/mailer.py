"""The production :class:`ConfirmationMailer`: the delivery engine's configured transport.

A confirmation mail goes out the way an edition does (the SMTP relay, or the local outbox
when none is configured), DKIM-signed when DKIM is configured, but outside the ledger: it
belongs to no edition, and a failure only needs a log line (the person can ask again).
"""

from __future__ import annotations

from ..config import Settings
from ..delivery.attempt import Outcome
from ..delivery.compose import DkimSigner
from ..delivery.engine import open_lanes
from ..errors import DeliveryError


class RelayMailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        dkim = settings.dkim
        self._signer = (
            DkimSigner(dkim.domain, dkim.selector, settings.dkim_private_key.reveal())
            if dkim.domain and settings.dkim_private_key
            else None
        )

    async def __call__(self, message: bytes, *, sender: str, recipient: str) -> None:
        if self._signer is not None:
            message = self._signer.sign(message)
        lanes, close = open_lanes(self.settings)
        try:
            attempt = await lanes[0].deliver(sender, recipient, message)
        finally:
            await close()
        if attempt.outcome != Outcome.SENT:
            raise DeliveryError(f"the confirmation mail was not accepted: {attempt.reply}")
