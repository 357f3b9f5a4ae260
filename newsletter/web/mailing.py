"""One mail a page sends after its answer went out (a confirm link, a welcome).

The reader already has their page; a failure here is a log line, never an error page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from newsletter.delivery.single import SingleMessageSender

logger = logging.getLogger("newsletter.web")


async def send_after_answer(
    sender: SingleMessageSender,
    what: str,
    subscriber_id: int,
    address: str,
    build: Callable[[], bytes],
) -> None:
    """Build and send one mail to ``address`` (in a worker thread: templates and MIME take
    milliseconds, not on the loop that serves the pages); ``what`` names it in the log."""
    try:
        handed = await sender.send(build, address)
    except Exception:
        logger.exception("could not send the %s mail to subscriber %d", what, subscriber_id)
        return
    if handed.problem is not None:
        logger.warning(
            "the %s mail to subscriber %d was not accepted: %s",
            what,
            subscriber_id,
            handed.problem,
        )
