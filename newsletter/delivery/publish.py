"""Publishing: from a queued post to an edition that goes out, and what it would look like.

One path for ``newsletter send``, the weekly job and the demo: :func:`prepare_edition`
renders the post once, checks a sample message of it the way mail providers will judge
it, and creates the edition, or holds it with the reason (the daemon, which nobody
watches), or refuses it (the CLI, where someone reads the report). The rendered edition
travels on to the sender, so a send renders the post once. :func:`publish_week` is the
weekly job's whole step: that, then the owner's review copy or the send itself.
The sample message is :mod:`newsletter.mail.preview`'s, the one ``preview`` shows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db import post_queue, subscribers
from newsletter.db.database import Database
from newsletter.db.events import record_event
from newsletter.db.models import Edition
from newsletter.db.models import Post as PostRow
from newsletter.delivery.checks import Finding, Report, check_edition, spamassassin_score
from newsletter.delivery.contents import render_post
from newsletter.delivery.editions import create_edition, hold
from newsletter.delivery.engine import SendSummary, send_edition
from newsletter.delivery.send_loop import SendOptions
from newsletter.delivery.single import Handover, send_one
from newsletter.delivery.transport import check_transport
from newsletter.errors import CheckFailedError, InputError, NotFoundError
from newsletter.mail.message import build_message
from newsletter.mail.preview import Preview as Preview  # handed on, with build_preview
from newsletter.mail.preview import preview_of
from newsletter.mail.render import RenderedEdition, recipient_for

SPAM_SCORE_LIMIT = 0.5
TEST_SUBJECT_PREFIX = "[TEST] "

OnFailure = Literal["hold", "refuse"]
PublishAction = Literal["sent", "review", "held", "already made", "queue empty"]
HoldCheck = Callable[[Session, int], str | None]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreparedEdition:
    """An edition made by :func:`prepare_edition`; ``report`` is None when the check was skipped."""

    edition_id: int
    rendered: RenderedEdition
    report: Report | None
    hold_reason: str | None = None


@dataclass(frozen=True)
class Published:
    """What :func:`publish_week` did. ``detail``: why a held edition is held, or how the
    send went. ``owner_unreachable``: held because the owner's review copy did not arrive,
    so a mail to the owner about it would not arrive either."""

    action: PublishAction
    edition_id: int | None = None
    detail: str = ""
    summary: SendSummary | None = None
    owner_unreachable: bool = False


def publish_week(
    database: Database,
    settings: Settings,
    week_key: str,
    now: datetime,
    *,
    hold_check: HoldCheck,
    stop: threading.Event | None = None,
) -> Published:
    """The weekly job's one step: week ``week_key``'s edition of the next post, made and
    checked, then held, sent to the owner for review, or sent.

    ``hold_check`` says why the edition just made must wait for the owner (the returns
    part's limits: too many bounces or complaints last time), or None.

    Another daemon may make this week's edition at the same moment: the unique week key
    refuses the second insert (or, when it took the same post, the post is taken), and
    the loser answers "already made".
    """
    try:
        with database.session() as session:
            post = post_queue.next_unsent(session)
            if post is None:
                # Another daemon may have made this week's edition of the last queued post
                # since the caller looked: then the queue is not empty, it was just used.
                made = edition_of_week(session, week_key)
                return Published("queue empty") if made is None else Published("already made", made)
            prepared = _make_weekly(session, settings, post, week_key, now, hold_check)
    except (IntegrityError, InputError):
        with database.session() as session:
            made = edition_of_week(session, week_key)
        if made is not None:
            return Published("already made", made)
        raise
    if prepared.hold_reason is not None:
        return Published("held", prepared.edition_id, prepared.hold_reason)
    owner = settings.newsletter.owner_address
    if settings.schedule.review_minutes and owner:
        return _send_for_review(database, settings, prepared, owner, now)
    if settings.schedule.review_minutes:
        log.warning("schedule.review_minutes is set but newsletter.owner_address is empty")
    summary = send_edition(
        database,
        settings,
        prepared.edition_id,
        options=SendOptions(stop=stop),
        rendered=prepared.rendered,
    )
    log.info("edition %d: %s", prepared.edition_id, describe(summary))
    return Published("sent", prepared.edition_id, describe(summary), summary)


def edition_of_week(session: Session, week_key: str) -> int | None:
    """The edition made for ``week_key`` (an ISO week), if one was."""
    return session.scalar(select(Edition.id).where(Edition.week_key == week_key))


def describe(summary: SendSummary) -> str:
    """One line on a send, for the log and the weekly job's outcome."""
    waiting = f"; {summary.waiting.describe()}" if summary.waiting else ""
    return (
        f"{summary.status}: sent {summary.sent}, deferred {summary.deferred}, "
        f"failed {summary.failed}, skipped {summary.skipped}{waiting}"
    )


def _make_weekly(
    session: Session,
    settings: Settings,
    post: PostRow,
    week_key: str,
    now: datetime,
    hold_check: HoldCheck,
) -> PreparedEdition:
    """The edition, held when its check failed or the last one bounced too much; with a
    review, it waits ``schedule.review_minutes`` for the owner."""
    prepared = prepare_edition(
        session, settings, post, actor="scheduler", on_failure="hold", week_key=week_key
    )
    if prepared.hold_reason is None and (too_many := hold_check(session, prepared.edition_id)):
        # Too many bounces or complaints last time: the owner decides first.
        hold(session, prepared.edition_id, too_many)
        return replace(prepared, hold_reason=too_many)
    review = settings.schedule.review_minutes
    if review and settings.newsletter.owner_address and prepared.hold_reason is None:
        edition = session.get(Edition, prepared.edition_id)
        assert edition is not None
        edition.send_after = now + timedelta(minutes=review)
    return prepared


def _send_for_review(
    database: Database, settings: Settings, prepared: PreparedEdition, owner: str, now: datetime
) -> Published:
    """The owner's "[TEST] " copy; the edition waits for them, or is held when the copy
    did not go out (nobody reviewed it, so it must not go out when the wait is over)."""
    edition_id = prepared.edition_id
    handed = send_test_copy(settings, prepared.rendered, owner)
    if handed.problem is not None:
        reason = f"the [TEST] copy to {owner} was not delivered: {handed.problem}"
        with database.session() as session:
            hold(session, edition_id, reason)
        return Published("held", edition_id, reason, owner_unreachable=True)
    send_at = now + timedelta(minutes=settings.schedule.review_minutes)
    log.info(
        "edition %d: [TEST] copy to %s (%s); sending at %s unless cancelled",
        edition_id,
        owner,
        handed.reply,
        send_at.isoformat(timespec="minutes"),
    )
    return Published("review", edition_id)


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
    rendered = render_post(session, settings.newsletter, row)
    return preview_of(settings.newsletter, settings.signing_key(), rendered, reader, now)


def deliverability_report(preview: Preview, signature: str) -> Report:
    """The pure checks plus SpamAssassin's local rules when it is installed."""
    report = check_edition(preview.edition, preview.message, signature)
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
    edition exists; it raises to stop. Without a question the edition's rows are written
    while SpamAssassin reads the sample (seconds, in a process of its own), in the
    caller's transaction: a refused check raises before it commits, so nothing is made,
    and nothing can be sent before the check's verdict.
    """
    check_transport(settings)
    rendered = render_post(session, settings.newsletter, post)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="check") as checker:
        pending = None
        if not skip_check:
            sample = preview_of(settings.newsletter, settings.signing_key(), rendered)
            pending = checker.submit(deliverability_report, sample, settings.newsletter.signature)
        if confirm is not None:
            report = _verdict(pending, on_failure)
            confirm()
        edition_id = create_edition(
            session,
            post,
            rendered.subject,
            force=force,
            actor=actor,
            week_key=week_key,
            cards=rendered.card_slugs,
        )
        report = _verdict(pending, on_failure)
    if report is None:
        record_event(session, "check_skipped", actor, edition_id=edition_id, post=post.slug)
        return PreparedEdition(edition_id, rendered, None)
    if report.ok:
        return PreparedEdition(edition_id, rendered, report)
    reason = "; ".join(f.line() for f in report.findings if f.status == "fail")
    hold(session, edition_id, reason)
    return PreparedEdition(edition_id, rendered, report, reason)


def _verdict(pending: Future[Report] | None, on_failure: OnFailure) -> Report | None:
    """The check's report once it is done (None: skipped); a failed one raises when
    ``on_failure`` is "refuse"."""
    report = None if pending is None else pending.result()
    if report is not None and not report.ok and on_failure == "refuse":
        failed = sum(1 for finding in report.findings if finding.status == "fail")
        raise CheckFailedError(failed, report.lines())
    return report


def send_test_copy(settings: Settings, rendered: RenderedEdition, address: str) -> Handover:
    """Mail one "[TEST] " copy of an edition to ``address``; the ledger is not touched.

    The copy's unsubscribe link is made for subscriber 0, which does not exist, so a
    reviewer clicking it unsubscribes nobody.
    """
    return send_one(settings, partial(_test_copy, settings, rendered, address), address)


def _test_copy(settings: Settings, rendered: RenderedEdition, address: str) -> bytes:
    newsletter = settings.newsletter
    recipient = recipient_for(
        newsletter.base_url, settings.signing_key(), 0, address, None, post_slug=rendered.post_slug
    )
    return build_message(
        rendered, recipient, newsletter, now=datetime.now(UTC), subject_prefix=TEST_SUBJECT_PREFIX
    )
