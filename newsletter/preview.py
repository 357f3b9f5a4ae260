"""Exactly what an edition would send, without sending it: for ``preview`` and ``check``.

The message is built by the same ``render`` and ``message`` code the delivery engine
uses, for a real subscriber when one is named and otherwise for a sample reader whose
links lead nowhere (subscriber id 0 never exists).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from . import queue, subscribers
from .config import Settings
from .deliverability import Finding, Report, check_edition, spamassassin_score
from .errors import NotFoundError
from .message import build_message
from .render import Recipient, RenderedEdition, recipient_for, render_edition

SAMPLE_READER: tuple[str, str | None] = ("lezer@example.org", "Lezer")
SPAM_SCORE_LIMIT = 0.5


@dataclass(frozen=True)
class Preview:
    edition: RenderedEdition
    recipient: Recipient
    message: bytes


def build_preview(
    session: Session,
    settings: Settings,
    slug: str | None = None,
    subscriber_address: str | None = None,
    now: datetime | None = None,
) -> Preview:
    """The message of post ``slug`` (default: the next unsent post) for one reader."""
    row = queue.get(session, slug) if slug else queue.next_unsent(session)
    if row is None:
        raise NotFoundError("the queue is empty: import posts with `newsletter posts import`")
    edition = render_edition(queue.document(row), settings)
    subscriber_id, address, name = 0, *SAMPLE_READER
    if subscriber_address is not None:
        found = subscribers.find(session, subscribers.normalise_address(subscriber_address))
        if found is None or found.email is None:
            raise NotFoundError(f"no subscriber with address {subscriber_address}")
        subscriber_id, address, name = found.id, found.email, found.name
    recipient = recipient_for(settings, subscriber_id, address, name, post_slug=row.slug)
    message = build_message(edition, recipient, settings, now=now or datetime.now(UTC))
    return Preview(edition, recipient, message)


def deliverability_report(preview: Preview, settings: Settings) -> Report:
    """The pure checks plus SpamAssassin's local rules when it is installed."""
    report = check_edition(preview.edition, preview.message, settings)
    score = spamassassin_score(preview.message)
    if score is None:
        extra = Finding("info", "spamassassin", "not installed (Debian package spamassassin)")
    elif score > SPAM_SCORE_LIMIT:
        extra = Finding("fail", "spamassassin", f"score {score:.3f} > {SPAM_SCORE_LIMIT}")
    else:
        extra = Finding("pass", "spamassassin", f"score {score:.3f} <= {SPAM_SCORE_LIMIT}")
    return Report((*report.findings, extra))
