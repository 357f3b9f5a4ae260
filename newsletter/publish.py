"""Publishing: from a queued post to an edition that may go out, and what it would look like.

One path for ``newsletter send``, the weekly job and the demo: :func:`prepare_edition`
renders the post once, checks a sample message of it the way mail providers will judge
it, and creates the edition, or holds it with the reason (the daemon, which nobody
watches), or refuses it (the CLI, where someone reads the report). The rendered edition
travels on to the sender, so a send renders the post once.

The preview is exactly that sample: the same ``render`` and ``message`` code the delivery
engine uses, for a real subscriber when one is named and otherwise for the sample reader,
whose links lead nowhere (subscriber id 0 never exists).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db import post_queue, subscribers
from newsletter.db.events import record_event
from newsletter.db.models import Post as PostRow
from newsletter.delivery.attempt import Attempt
from newsletter.delivery.editions import create_edition, hold
from newsletter.delivery.single import SingleMessageSender
from newsletter.delivery.transport import check_transport
from newsletter.errors import NewsletterError, NotFoundError
from newsletter.mail.checks import Finding, Report, check_edition, spamassassin_score
from newsletter.mail.message import build_message
from newsletter.mail.render import Recipient, RenderedEdition, recipient_for, render_edition

# Whom a preview, a dry run and the demo write to when no subscriber is named.
SAMPLE_READER: tuple[str, str] = ("lezer@example.org", "Lezer")
SPAM_SCORE_LIMIT = 0.5
TEST_SUBJECT_PREFIX = "[TEST] "

OnFailure = Literal["hold", "refuse"]


@dataclass(frozen=True)
class Preview:
    edition: RenderedEdition
    recipient: Recipient
    message: bytes


class CheckFailedError(NewsletterError):
    """The deliverability check failed and the caller asked to refuse such an edition."""

    def __init__(self, report: Report) -> None:
        failed = sum(1 for finding in report.findings if finding.status == "fail")
        super().__init__(
            f"the deliverability check failed ({failed} problem(s)); nothing was sent "
            "(fix what the report says, or send anyway with --skip-check)"
        )
        self.report = report


@dataclass(frozen=True)
class PreparedEdition:
    """An edition made by :func:`prepare_edition`; ``report`` is None when the check was skipped."""

    edition_id: int
    rendered: RenderedEdition
    report: Report | None
    hold_reason: str | None = None


def preview_of(
    settings: Settings,
    rendered: RenderedEdition,
    reader: tuple[int, str, str | None] | None = None,
    now: datetime | None = None,
) -> Preview:
    """The message ``rendered`` makes for ``reader`` (id, address, name), else the sample."""
    subscriber_id, address, name = reader or (0, *SAMPLE_READER)
    recipient = recipient_for(settings, subscriber_id, address, name, post_slug=rendered.post_slug)
    message = build_message(rendered, recipient, settings, now=now or datetime.now(UTC))
    return Preview(rendered, recipient, message)


def build_preview(
    session: Session,
    settings: Settings,
    slug: str | None = None,
    subscriber_address: str | None = None,
    now: datetime | None = None,
) -> Preview:
    """The message of post ``slug`` (default: the next unsent post) for one reader."""
    row = post_queue.get(session, slug) if slug else post_queue.next_unsent(session)
    if row is None:
        raise NotFoundError("the queue is empty: import posts with `newsletter posts import`")
    reader = None
    if subscriber_address is not None:
        found = subscribers.find(session, subscribers.normalise_address(subscriber_address))
        if found is None or found.email is None:
            raise NotFoundError(f"no subscriber with address {subscriber_address}")
        reader = (found.id, found.email, found.name)
    return preview_of(settings, render_edition(post_queue.document(row), settings), reader, now)


def deliverability_report(preview: Preview, settings: Settings) -> Report:
    """The pure checks plus SpamAssassin's local rules when it is installed."""
    report = check_edition(preview.edition, preview.message, settings)
    result = spamassassin_score(preview.message)
    if result is None:
        extra = Finding("info", "spamassassin", "not installed (Debian package spamassassin)")
    elif result.score > SPAM_SCORE_LIMIT:
        extra = Finding(
            "fail",
            "spamassassin",
            f"score {result.score:.3f} > {SPAM_SCORE_LIMIT} ({result.rules})",
        )
    else:
        extra = Finding("pass", "spamassassin", f"score {result.score:.3f} <= {SPAM_SCORE_LIMIT}")
    return Report((*report.findings, extra))


def prepare_edition(
    session: Session,
    settings: Settings,
    post: PostRow,
    *,
    actor: str,
    on_failure: OnFailure,
    week_key: str | None = None,
    force: bool = False,
    skip_check: bool = False,
    confirm: Callable[[], object] | None = None,
) -> PreparedEdition:
    """Render ``post`` once, check it, and create its edition (see the module docstring).

    ``skip_check`` is the admin's explicit override; it is written to the events log.
    The transport is tried first, so a send that could not start makes no edition.
    ``confirm`` (the CLI's question) is asked once the check has passed and before the
    edition exists; it raises to stop.
    """
    rendered = render_edition(post_queue.document(post), settings)
    check_transport(settings)
    report = None if skip_check else deliverability_report(preview_of(settings, rendered), settings)
    if report is not None and not report.ok and on_failure == "refuse":
        raise CheckFailedError(report)
    if confirm is not None:
        confirm()
    edition_id = create_edition(
        session, post, rendered.subject, force=force, actor=actor, week_key=week_key
    )
    if report is None:
        record_event(session, "check_skipped", actor, edition_id=edition_id, post=post.slug)
        return PreparedEdition(edition_id, rendered, None)
    if report.ok:
        return PreparedEdition(edition_id, rendered, report)
    reason = "; ".join(f.line() for f in report.findings if f.status == "fail")
    hold(session, edition_id, reason)
    return PreparedEdition(edition_id, rendered, report, reason)


def send_test_copy(settings: Settings, rendered: RenderedEdition, address: str) -> Attempt:
    """Mail one "[TEST] " copy of an edition to ``address``; the ledger is not touched.

    The copy's unsubscribe link is made for subscriber 0, which does not exist, so a
    reviewer clicking it unsubscribes nobody.
    """
    recipient = recipient_for(settings, 0, address, None, post_slug=rendered.post_slug)
    message = build_message(
        rendered, recipient, settings, now=datetime.now(UTC), subject_prefix=TEST_SUBJECT_PREFIX
    )
    return SingleMessageSender(settings).send_blocking(message, address)
