"""The way out, as configured: lanes of an SMTP relay, or the local Maildir outbox.

Both the delivery engine (an edition) and the single-message sender (one mail outside the
ledger) open their lanes here, so a message leaves the same way whoever sends it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from newsletter.config import Settings
from newsletter.delivery.attempt import Attempt
from newsletter.delivery.maildir import MaildirLane
from newsletter.delivery.smtp import SmtpPool, tls_context
from newsletter.errors import DeliveryError


class Lane(Protocol):
    """One way out: an SMTP connection or the maildir writer."""

    async def deliver(self, sender: str, recipient: str, message: bytes) -> Attempt: ...

    async def close(self) -> None: ...


def open_lanes(settings: Settings) -> tuple[list[Lane], Callable[[], Any]]:
    """The configured transport's lanes and a coroutine function that closes them.

    Blocking (it creates folders, resolves this host's name, loads the CA file): call it
    from a worker thread when an event loop is serving others.
    """
    if settings.transport == "maildir":
        lane = _maildir_lane(settings)
        return [lane], lane.close
    password = settings.smtp_password.reveal() if settings.smtp_password else None
    pool = SmtpPool(settings.smtp, password)
    return list(pool.create()), pool.close


def check_transport(settings: Settings) -> None:
    """Fail now, before an edition exists, when the transport cannot even start.

    (Whether the relay answers is learnt when sending: a relay that is down for an hour
    pauses an edition, it does not stop one being made.)
    """
    if settings.transport == "smtp":
        tls_context(settings.smtp)
    else:
        _maildir_lane(settings)


def _maildir_lane(settings: Settings) -> MaildirLane:
    try:
        return MaildirLane(settings.maildir_path)
    except OSError as exc:
        raise DeliveryError(
            f"cannot open the maildir {settings.maildir_path}: {exc.strerror or exc}"
        ) from None
