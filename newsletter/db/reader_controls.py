"""What a reader changes on their own page: a pause, the greeting name, a new address.

Plain functions on a :class:`Session`, kept apart from HTTP like ``subscriptions``; every
change writes an event. Only an active reader manages a subscription: someone who left,
bounced or complained sees why on the page and changes nothing here.

A pause is a date, not a job: editions made before ``paused_until`` skip the reader (see
``subscribers.receiving``) and the first one after it reaches them again. A new address is
only a request until a link mailed to it is followed: until then the old address keeps
receiving, and a newer request spends the links of older ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.orm import Session

from newsletter.db.events import record_event
from newsletter.db.models import Subscriber, SubscriberStatus, utcnow
from newsletter.db.subscribers import clean_name, find
from newsletter.db.subscriptions import WEB_ACTOR, mask_address, release_forgotten_twin
from newsletter.errors import InputError

PAUSE_WEEKS = (2, 4, 8)

# "requested": mail the link; "same": it is the current address; "taken": another reader
# has it (the page answers as for "requested", and nothing is mailed: see request_move).
MoveRequest = Literal["requested", "same", "taken"]
MoveOutcome = Literal["to confirm", "moved", "spent", "taken"]


@dataclass(frozen=True, slots=True)
class ReaderSettings:
    """What the page shows: never a full address, not even the new one."""

    masked_address: str
    name: str | None
    status: str
    paused_until: datetime | None
    new_address: str | None

    @property
    def active(self) -> bool:
        return self.status == SubscriberStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class MoveLink:
    """Whom to mail the confirm link of a new address to."""

    subscriber_id: int
    new_address: str
    name: str | None


@dataclass(frozen=True, slots=True)
class Moved:
    """A confirmed move: the old address is told, so that a forwarded manage link cannot
    move a reader away unseen."""

    old_address: str
    new_address: str
    name: str | None


def _reader(session: Session, subscriber_id: int, *, lock: bool = False) -> Subscriber | None:
    """The reader a genuine token names; None once they were erased."""
    subscriber = session.get(Subscriber, subscriber_id, with_for_update=lock)
    if subscriber is None or subscriber.email is None:
        return None
    return subscriber


def _settings(subscriber: Subscriber, now: datetime) -> ReaderSettings:
    assert subscriber.email is not None
    paused = subscriber.paused_until
    return ReaderSettings(
        masked_address=mask_address(subscriber.email),
        name=subscriber.name,
        status=subscriber.status,
        paused_until=paused if paused is not None and paused > now else None,
        new_address=mask_address(subscriber.new_email) if subscriber.new_email else None,
    )


def settings_of(session: Session, subscriber_id: int) -> ReaderSettings | None:
    """Read-only: what the GET page shows. None for an erased reader."""
    subscriber = _reader(session, subscriber_id)
    return _settings(subscriber, utcnow()) if subscriber else None


def _active(session: Session, subscriber_id: int) -> Subscriber | None:
    subscriber = _reader(session, subscriber_id, lock=True)
    if subscriber is None or subscriber.status != SubscriberStatus.ACTIVE:
        return None
    return subscriber


def pause(session: Session, subscriber_id: int, weeks: int) -> ReaderSettings | None:
    """Skip the editions of the next ``weeks`` weeks (2, 4 or 8); a new pause replaces an
    old one. None: nothing to pause (erased, or not an active reader)."""
    if weeks not in PAUSE_WEEKS:
        raise InputError(f"a pause is {', '.join(map(str, PAUSE_WEEKS))} weeks, not {weeks}")
    subscriber = _active(session, subscriber_id)
    if subscriber is None:
        return None
    now = utcnow()
    subscriber.paused_until = now + timedelta(weeks=weeks)
    record_event(session, "pause", WEB_ACTOR, subscriber.id, weeks=weeks)
    return _settings(subscriber, now)


def resume(session: Session, subscriber_id: int) -> ReaderSettings | None:
    """End a pause now: the next edition comes again."""
    subscriber = _active(session, subscriber_id)
    if subscriber is None:
        return None
    now = utcnow()
    if subscriber.paused_until is not None and subscriber.paused_until > now:
        record_event(session, "resume", WEB_ACTOR, subscriber.id)
    subscriber.paused_until = None
    return _settings(subscriber, now)


def rename(session: Session, subscriber_id: int, raw_name: str) -> ReaderSettings | None:
    """The name of the greeting ("Hoi Anna,"); empty: a greeting without a name.
    Raises ``InputError`` for a name that is too long."""
    name = clean_name(raw_name)
    subscriber = _active(session, subscriber_id)
    if subscriber is None:
        return None
    if name != subscriber.name:
        subscriber.name = name
        record_event(session, "rename", WEB_ACTOR, subscriber.id)
    return _settings(subscriber, utcnow())


def request_move(
    session: Session, subscriber_id: int, new_address: str
) -> tuple[MoveRequest, MoveLink | None] | None:
    """Ask to move to ``new_address`` (already normalised); the link goes to that address.

    An address another reader has is refused without a mail, and the page does not say
    so: a forwarded newsletter's link must not tell whether someone is on the list.
    """
    subscriber = _active(session, subscriber_id)
    if subscriber is None:
        return None
    if new_address == subscriber.email:
        return "same", None
    if find(session, new_address) is not None:
        return "taken", None
    subscriber.new_email = new_address
    subscriber.new_email_requested_at = utcnow()
    record_event(session, "move_requested", WEB_ACTOR, subscriber.id)
    return "requested", MoveLink(subscriber.id, new_address, subscriber.name)


def _move_outcome(subscriber: Subscriber, made: datetime) -> MoveOutcome:
    """A link made at ``made`` (to the whole second) answers the latest request; an older
    request's link, or one after the move, is spent."""
    requested = subscriber.new_email_requested_at
    if (
        subscriber.status != SubscriberStatus.ACTIVE
        or subscriber.new_email is None
        or requested is None
        or made < requested.replace(microsecond=0)
    ):
        return "spent"
    return "to confirm"


def move_page(session: Session, subscriber_id: int, made: datetime) -> MoveOutcome | None:
    """Read-only: what the confirm link's page shows before the button is pressed."""
    subscriber = _reader(session, subscriber_id)
    return _move_outcome(subscriber, made) if subscriber else None


def confirm_move(
    session: Session, subscriber_id: int, made: datetime
) -> tuple[MoveOutcome, Moved | None] | None:
    """The new address replaces the old one, if it is still free; the erasure mark of a
    person erased at that address is lifted (they proved to read it). With "moved" comes
    whom to tell."""
    subscriber = _reader(session, subscriber_id, lock=True)
    if subscriber is None:
        return None
    outcome = _move_outcome(subscriber, made)
    if outcome != "to confirm":
        return outcome, None
    assert subscriber.new_email is not None and subscriber.email is not None
    if find(session, subscriber.new_email) is not None:
        return "taken", None
    moved = Moved(subscriber.email, subscriber.new_email, subscriber.name)
    subscriber.email = subscriber.new_email
    subscriber.new_email = None
    subscriber.new_email_requested_at = None
    record_event(session, "move", WEB_ACTOR, subscriber.id)
    release_forgotten_twin(session, subscriber)
    return "moved", moved
