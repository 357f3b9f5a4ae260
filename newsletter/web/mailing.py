"""One mail a page sends after its answer went out (a confirm link, a welcome).

The reader already has their page; a failure here is a log line, never an error page.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from newsletter.delivery.attempt import Outcome
from newsletter.delivery.single import SingleMessageSender

logger = logging.getLogger("newsletter.web")


async def send_after_answer(
    sender: SingleMessageSender,
    what: str,
    subscriber_id: int,
    address: str,
    build: Callable[[], bytes],
) -> None:
    """Build (templates and MIME take milliseconds: not on the loop that serves the
    pages) and send one mail to ``address``; ``what`` names it in the log."""
    try:
        message = await asyncio.to_thread(build)
        attempt = await sender.send(message, address)
    except Exception:
        logger.exception("could not send the %s mail to subscriber %d", what, subscriber_id)
        return
    if attempt.outcome != Outcome.SENT:
        logger.warning(
            "the %s mail to subscriber %d was not accepted: %s",
            what,
            subscriber_id,
            attempt.reply,
        )
