"""One message outside the ledger: the owner's review copy, ``send --to``, confirmation mails.

These belong to no edition, so nothing is recorded per recipient; the caller learns the
relay's answer as an :class:`Attempt`. They leave exactly as editions do: through the
configured transport (the relay, or the local outbox), DKIM-signed when DKIM is set up.
Signing and opening the transport block (RSA, host name, CA file, folders), so they run
in a worker thread and a web app sending a confirmation mail keeps serving pages meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from newsletter.config import Settings
from newsletter.delivery.attempt import Attempt
from newsletter.delivery.transport import Lane, open_lanes
from newsletter.mail.dkim import dkim_signer


class SingleMessageSender:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._signer = dkim_signer(settings.dkim, settings.dkim_private_key)

    async def send(self, message: bytes, recipient: str) -> Attempt:
        """Hand ``message`` (finished RFC 5322 bytes) to the transport for ``recipient``."""
        message, (lanes, close) = await asyncio.to_thread(self._prepare, message)
        try:
            return await lanes[0].deliver(
                self._settings.newsletter.from_address, recipient, message
            )
        finally:
            await close()

    def _prepare(self, message: bytes) -> tuple[bytes, tuple[list[Lane], Callable[[], Any]]]:
        """The blocking part: the DKIM signature (pure-Python RSA, ~20 ms) and the lanes."""
        if self._signer is not None:
            message = self._signer.sign(message)
        return message, open_lanes(self._settings)

    def send_blocking(self, message: bytes, recipient: str) -> Attempt:
        """The same, from code without an event loop (the CLI, a scheduler worker thread)."""
        return asyncio.run(self.send(message, recipient))
