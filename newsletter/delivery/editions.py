"""Editions: one send of one post, with its recipients frozen in the deliveries ledger.

Creating an edition snapshots the receiving readers (active, not paused) with one
``INSERT … SELECT``: the list is fixed at that moment (a subscriber who joins later waits
for next week), while someone who leaves after the snapshot is still respected: the
sender skips them when it claims their row. A post goes out in one edition only, unless
the caller forces a resend.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, literal, select
from sqlalchemy.orm import Session

from newsletter.config import SmtpSection
from newsletter.db import post_queue, states, subscribers
from newsletter.db.domains import email_domain
from newsletter.db.events import record_event
from newsletter.db.models import (
    Delivery,
    DeliveryStatus,
    Edition,
    EditionStatus,
    Subscriber,
    utcnow,
)
from newsletter.db.models import Post as PostRow
from newsletter.delivery.budget import Limits, SharedBudget, Waiting
from newsletter.errors import InputError, NotFoundError


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class EditionInfo:
    id: int
    post_slug: str
    post_title: str
    status: str
    subject: str
    recipients: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    counts: dict[str, int] = field(default_factory=dict)
    # The other new posts it shows as cards (a busy week), by slug.
    cards: tuple[str, ...] = ()

    @property
    def open(self) -> int:
        return sum(self.counts.get(status, 0) for status in states.OPEN)

    def tally(self) -> dict[str, int]:
        """Where every recipient stands; the five always add up to ``recipients``.

        ``waiting``: not tried yet, or in a sender's hands right now (queued, sending).
        """
        count = self.counts.get
        return {
            "sent": count(DeliveryStatus.SENT, 0),
            "deferred": count(DeliveryStatus.DEFERRED, 0),
            "failed": count(DeliveryStatus.FAILED, 0),
            "skipped": count(DeliveryStatus.SKIPPED, 0),
            "waiting": count(DeliveryStatus.QUEUED, 0) + count(DeliveryStatus.SENDING, 0),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "post": self.post_slug,
            "title": self.post_title,
            "status": self.status,
            "subject": self.subject,
            "recipients": self.recipients,
            "created_at": _when(self.created_at),
            "started_at": _when(self.started_at),
            "finished_at": _when(self.finished_at),
            "counts": self.counts,
            "tally": self.tally(),
            "cards": list(self.cards),
        }


@dataclass(frozen=True)
class DeliveryInfo:
    email: str | None
    name: str | None
    status: str
    attempts: int
    last_reply: str | None
    next_attempt_at: datetime | None
    sent_at: datetime | None
    message_id: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "name": self.name,
            "status": self.status,
            "attempts": self.attempts,
            "last_reply": self.last_reply,
            "next_attempt_at": _when(self.next_attempt_at),
            "sent_at": _when(self.sent_at),
            "message_id": self.message_id,
        }


def active_subscriber_count(session: Session) -> int:
    """How many readers an edition made now would go to (paused readers not counted)."""
    return (
        session.scalar(
            select(func.count()).select_from(Subscriber).where(subscribers.receiving(utcnow()))
        )
        or 0
    )


def previous_edition(session: Session, post_id: int) -> int | None:
    """The edition this post already went out in (see ``post_queue.edition_of``)."""
    return session.scalar(post_queue.edition_of(post_id))


def create_edition(
    session: Session,
    post: PostRow,
    subject: str,
    *,
    force: bool = False,
    actor: str = "admin",
    week_key: str | None = None,
    cards: Sequence[str] = (),
) -> int:
    """A new edition of ``post`` with every receiving reader queued (active, not paused:
    :func:`subscribers.receiving`); returns its id.

    ``week_key`` (e.g. ``2026-W48``) is set by the scheduler: the database's unique
    constraint then makes a second edition for the same week impossible. ``cards``: the
    slugs of the other new posts it shows as cards (they go out with it).
    """
    earlier = previous_edition(session, post.id)
    if earlier is not None and not force:
        raise already_sent(post.slug, earlier)
    edition = Edition(
        post_id=post.id,
        status=EditionStatus.DRAFT,
        subject=subject,
        recipients=0,
        week_key=week_key,
        created_at=utcnow(),
    )
    session.add(edition)
    session.flush()
    post_queue.show_as_cards(session, edition.id, cards)
    edition.recipients = _queue_receiving_readers(session, edition)
    record_event(
        session,
        "edition_created",
        actor,
        edition_id=edition.id,
        post=post.slug,
        recipients=edition.recipients,
        forced=earlier is not None,
        cards=list(cards),
    )
    return edition.id


def _queue_receiving_readers(session: Session, edition: Edition) -> int:
    """One queued delivery per reader receiving when the edition was made, written by the
    database in one statement (a million readers in seconds); returns how many."""
    snapshot = select(
        literal(edition.id),
        Subscriber.id,
        literal(DeliveryStatus.QUEUED.value),
        literal(0),
        email_domain(Subscriber.email),
    ).where(subscribers.receiving(edition.created_at))
    session.execute(
        insert(Delivery).from_select(
            ["edition_id", "subscriber_id", "status", "attempts", "domain"], snapshot
        )
    )
    # rowcount of INSERT … SELECT is not reported by every driver: count instead.
    return (
        session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.edition_id == edition.id)
        )
        or 0
    )


def already_sent(slug: str, edition_id: int) -> InputError:
    """The refusal to send a post twice without ``--force``."""
    return InputError(
        f"post {slug!r} was already sent in edition {edition_id}; use --force to send it again"
    )


def hold(session: Session, edition_id: int, reason: str) -> None:
    """Keep an edition from going out on its own; ``editions show`` says why."""
    edition = get_edition(session, edition_id)
    states.move_edition(edition, EditionStatus.HELD)
    edition.hold_reason = reason


def get_edition(session: Session, edition_id: int) -> Edition:
    edition = session.get(Edition, edition_id)
    if edition is None:
        raise NotFoundError(f"no edition {edition_id} (see `newsletter editions list`)")
    return edition


def counts(session: Session, edition_id: int) -> dict[str, int]:
    result = dict.fromkeys((status.value for status in DeliveryStatus), 0)
    rows = session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.edition_id == edition_id)
        .group_by(Delivery.status)
    )
    for status, number in rows:
        result[status] = number
    return result


def due_now(session: Session, edition_id: int, now: datetime, lease: timedelta) -> int:
    """How many of the edition's messages a sender could take at ``now``: due, or left by a
    lapsed lease. ``status`` and ``editions show`` report it; the ledger counts the same."""
    return session.scalar(states.count_claimable(edition_id, now, lease)) or 0


def describe_edition(session: Session, edition_id: int) -> EditionInfo:
    edition = get_edition(session, edition_id)
    post = session.get(PostRow, edition.post_id)
    assert post is not None
    cards = post_queue.cards_by_edition(session, [edition_id]).get(edition_id, [])
    return _info(edition, post, counts(session, edition_id), cards)


def list_editions(session: Session) -> list[EditionInfo]:
    """Every edition, newest first, with its delivery counts (one grouped query)."""
    per_edition: dict[int, dict[str, int]] = {}
    rows = session.execute(
        select(Delivery.edition_id, Delivery.status, func.count()).group_by(
            Delivery.edition_id, Delivery.status
        )
    )
    for edition_id, status, number in rows:
        per_edition.setdefault(edition_id, dict.fromkeys(DeliveryStatus, 0))[status] = number
    editions = session.execute(
        select(Edition, PostRow)
        .join(PostRow, PostRow.id == Edition.post_id)
        .order_by(Edition.id.desc())
    ).all()
    empty = {status.value: 0 for status in DeliveryStatus}
    cards = post_queue.cards_by_edition(session, [edition.id for edition, _ in editions])
    return [
        _info(
            edition,
            post,
            {str(k): v for k, v in per_edition.get(edition.id, empty).items()},
            cards.get(edition.id, []),
        )
        for edition, post in editions
    ]


def _info(
    edition: Edition, post: PostRow, numbers: dict[str, int], cards: Sequence[str] = ()
) -> EditionInfo:
    return EditionInfo(
        id=edition.id,
        post_slug=post.slug,
        post_title=post.title,
        status=edition.status,
        subject=edition.subject,
        recipients=edition.recipients,
        created_at=edition.created_at,
        started_at=edition.started_at,
        finished_at=edition.finished_at,
        counts=numbers,
        cards=tuple(cards),
    )


def iterate_deliveries(
    session: Session, edition_id: int, status: str | None = None
) -> Iterator[DeliveryInfo]:
    get_edition(session, edition_id)
    query = (
        select(Delivery, Subscriber.email, Subscriber.name)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.edition_id == edition_id)
        .order_by(Delivery.id)
    )
    if status is not None:
        if status not in set(DeliveryStatus):
            raise InputError(
                f"unknown delivery status {status!r}; use one of: {', '.join(DeliveryStatus)}"
            )
        query = query.where(Delivery.status == status)
    for delivery, email, name in session.execute(query.execution_options(yield_per=1000)):
        yield DeliveryInfo(
            email=email,
            name=name,
            status=delivery.status,
            attempts=delivery.attempts,
            last_reply=delivery.last_reply,
            next_attempt_at=delivery.next_attempt_at,
            sent_at=delivery.sent_at,
            message_id=delivery.message_id,
        )


def cancel_edition(session: Session, edition_id: int, *, actor: str = "admin") -> int:
    """Stop an edition: unsent messages become skipped; returns how many.

    Messages a sender has in flight right now are left to it; it claims nothing new once
    the edition is cancelled.
    """
    edition = get_edition(session, edition_id)
    if not states.EDITION.may_move(edition.status, EditionStatus.CANCELLED):
        raise InputError(f"edition {edition_id} is {edition.status}; nothing to cancel")
    states.move_edition(edition, EditionStatus.CANCELLED)
    edition.finished_at = utcnow()
    result = session.execute(
        states.move_deliveries(
            (DeliveryStatus.QUEUED, DeliveryStatus.DEFERRED), DeliveryStatus.SKIPPED
        )
        .where(Delivery.edition_id == edition_id)
        .values(last_reply="edition cancelled")
    )
    skipped: int = result.rowcount  # type: ignore[attr-defined]
    record_event(session, "edition_cancelled", actor, edition_id=edition_id, skipped=skipped)
    return skipped


def release_edition(session: Session, edition_id: int, *, actor: str = "admin") -> None:
    """Let a held edition go: it becomes a draft again, which the daemon sends on its next
    run (a weekly edition) or ``send --resume N`` sends now. The owner's decision is logged."""
    edition = get_edition(session, edition_id)
    if edition.status != EditionStatus.HELD:
        raise InputError(f"edition {edition_id} is not held (it is {edition.status})")
    record_event(
        session, "edition_released", actor, edition_id=edition_id, reason=edition.hold_reason
    )
    states.move_edition(edition, EditionStatus.DRAFT)
    edition.hold_reason = None
    edition.send_after = None


def start_sending(session: Session, edition_id: int) -> Edition:
    """Move a draft edition to ``sending``; refuse editions that cannot be sent."""
    edition = get_edition(session, edition_id)
    if edition.status == EditionStatus.CANCELLED:
        raise InputError(f"edition {edition_id} was cancelled")
    if edition.status == EditionStatus.HELD:
        raise InputError(f"edition {edition_id} is held: {edition.hold_reason or 'no reason'}")
    if edition.status == EditionStatus.DRAFT:
        states.move_edition(edition, EditionStatus.SENDING)
    if edition.started_at is None:
        edition.started_at = utcnow()
    return edition


def finish_if_done(session: Session, edition_id: int) -> str:
    """Mark the edition sent once no delivery is open; returns the edition's status."""
    edition = get_edition(session, edition_id)
    if edition.status != EditionStatus.SENDING:
        return str(edition.status)
    still_open = session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.edition_id == edition_id, states.still_open())
    )
    if not still_open:
        states.move_edition(edition, EditionStatus.SENT)
        edition.finished_at = utcnow()
        record_event(session, "edition_sent", "sender", edition_id=edition_id)
    return str(edition.status)


def waiting_for_limits(engine: Engine, smtp: SmtpSection, info: EditionInfo) -> Waiting | None:
    """Why an edition that still has messages to send is not sending them: the hour's or
    the day's budget of every sender together is spent (None when it is not)."""
    if info.status != EditionStatus.SENDING or not info.tally()["waiting"]:
        return None
    limits = Limits.of(smtp)
    return SharedBudget(engine, limits).waiting() if limits.windows() else None
