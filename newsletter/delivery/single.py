"""One message outside the ledger: the owner's review copy, ``send --to``, owner alerts,
confirmation and welcome mails.

These belong to no edition, so nothing is recorded per recipient; every caller wants the
same thing back: did the message go, and if not, why, in one line (:class:`Handover`).
They leave exactly as editions do: through the configured transport (the relay, or the
local outbox), DKIM-signed when DKIM is set up. Building (templates, MIME), signing and
opening the transport block (RSA, host name, CA file, folders), so they run in one worker
thread and a web app sending a confirmation mail keeps serving pages meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from newsletter.config import Settings
from newsletter.delivery.attempt import Attempt, Outcome
from newsletter.delivery.transport import Lane, open_lanes
from newsletter.errors import NewsletterError
from newsletter.mail.dkim import dkim_signer


@dataclass(frozen=True)
class Handover:
    """What came of one message: the relay's answer (``attempt``; None when the message
    never reached it), and ``problem``: None when the transport took the message, else one
    line on why not (the relay's refusal, or the error that stopped the message first)."""

    attempt: Attempt | None
    problem: str | None

    @classmethod
    def of(cls, attempt: Attempt) -> Handover:
        return cls(attempt, None if attempt.outcome == Outcome.SENT else attempt.reply)

    @property
    def reply(self) -> str:
        """The relay's answer, or the problem when there was none."""
        return self.attempt.reply if self.attempt is not None else str(self.problem)


class SingleMessageSender:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._signer = dkim_signer(settings.dkim, settings.dkim_private_key)

    async def send(self, build: Callable[[], bytes], recipient: str) -> Handover:
        """Build the message (finished RFC 5322 bytes) and hand it to the transport for
        ``recipient``; a :class:`~newsletter.errors.NewsletterError` on the way is the
        problem, anything else is a bug and is raised."""
        try:
            message, (lanes, close) = await asyncio.to_thread(self._prepare, build)
            try:
                attempt = await lanes[0].deliver(
                    self._settings.newsletter.from_address, recipient, message
                )
            finally:
                await close()
        except NewsletterError as exc:
            return Handover(None, str(exc))
        return Handover.of(attempt)

    def _prepare(
        self, build: Callable[[], bytes]
    ) -> tuple[bytes, tuple[list[Lane], Callable[[], Any]]]:
        """The blocking part: the message, its DKIM signature (pure-Python RSA, ~20 ms)
        and the lanes."""
        message = build()
        if self._signer is not None:
            message = self._signer.sign(message)
        return message, open_lanes(self._settings)


def send_one(settings: Settings, build: Callable[[], bytes], recipient: str) -> Handover:
    """Send one message from code without an event loop (the CLI, a scheduler worker
    thread); a sender that cannot even be made (a DKIM key that cannot sign) is the
    problem too."""
    try:
        sender = SingleMessageSender(settings)
    except NewsletterError as exc:
        return Handover(None, str(exc))
    return asyncio.run(sender.send(build, recipient))
