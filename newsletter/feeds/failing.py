"""A feed that has failed for a day: an alert for the owner, once per feed per week.

A poll that fails now and then is normal (a blog host restarting); a day of nothing but
failures means new posts do not reach the queue, which the owner must know. The alert is
recorded (:mod:`newsletter.db.alerts`); the scheduler's owner-mail sender mails it.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy.orm import Session

from newsletter.config import hide_password
from newsletter.db.alerts import local_moment, record_alert
from newsletter.feeds.state import failing_for

FEED_FAILING_HOURS = 24


def record_failing_feeds(
    session: Session, urls: tuple[str, ...], now: datetime, period: str, zone: tzinfo
) -> int:
    """Record an alert for each of ``urls`` that has failed for a day, once per ``period``
    (an ISO week); how many were new."""
    recorded = 0
    for feed in failing_for(session, urls, now, FEED_FAILING_HOURS):
        assert feed.failing_since is not None
        # The error is hidden again too: it may have been recorded before passwords were.
        recorded += record_alert(
            session,
            cause=f"feed-failing:{feed.url}",
            period=period,
            subject="De feed van de blog is al een dag niet te lezen",
            paragraphs=[
                f"Sinds {local_moment(feed.failing_since, zone)} lukt het niet om "
                f"{hide_password(feed.url)} op te halen. Nieuwe berichten van de blog komen "
                "zo niet in de wachtrij; wat er al in staat, gaat gewoon uit.",
                "Er wordt elke keer opnieuw geprobeerd. De laatste foutmelding:",
            ],
            report=hide_password(feed.last_error or ""),
        )
    return recorded
