"""What a subscriber can do to their own subscription from a link: the state changes.

These are plain functions on a :class:`Session`, kept apart from HTTP so the web pages and
the inbound mail listener share them and tests can call them directly. Every change writes
an event; asking for a state one is already in changes nothing (links get clicked twice,
scanners replay them, providers retry one-click POSTs).

Only a confirmed sign-up brings someone back who unsubscribed, bounced or complained: a
sign-up request alone never changes their status (anyone can type any address into a form).
A confirm link answers the one sign-up it was mailed for: once the reader has said yes or no
since it was made, it changes nothing (see :func:`_confirm_outcome`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.db import consent
from newsletter.db.consent import ConfirmingRequest
from newsletter.db.events import record_event
from newsletter.db.models import ConsentSource, Subscriber, SubscriberStatus, utcnow
from newsletter.db.subscribers import (
    OPTED_OUT,
    find,
    forget_salt,
    forgotten_hash,
    unsubscribe,
)

WEB_ACTOR = "web"
# "Toch weer aanmelden" is offered for this long after the person unsubscribed themselves.
RESUBSCRIBE_WINDOW = timedelta(hours=24)
SELF_SERVICE_SOURCES = frozenset({"link", "one-click", "mailto"})

UnsubscribeSource = Literal["link", "one-click", "mailto"]
ResubscribeOutcome = Literal["resubscribed", "already active", "sign up again"]
# What a confirm link does: "to confirm" (the page's button), "confirmed" (this click),
# "already confirmed" (the reader is active), "spent" (they said yes or no since).
ConfirmOutcome = Literal["to confirm", "confirmed", "already confirmed", "spent"]


@dataclass(frozen=True, slots=True)
class SubscriberView:
    """What a page may show about the person holding a link: never the full address."""

    masked_address: str
    status: str
    can_come_back: bool = False

    @property
    def opted_out(self) -> bool:
        return self.status in OPTED_OUT


@dataclass(frozen=True, slots=True)
class SignupRequest:
    """The result of a sign-up: whom to send a confirmation mail to, if anyone."""

    subscriber_id: int
    address: str
    name: str | None
    send_confirmation: bool


def mask_address(address: str) -> str:
    """``anna@example.nl`` becomes ``a•••@example.nl``: recognisable to its owner only."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}"


def _known(session: Session, subscriber_id: int, *, lock: bool = False) -> Subscriber | None:
    """The subscriber a genuine token names, or None when they were forgotten (erased).

    ``lock``: the row stays locked until the transaction ends (PostgreSQL), so two clicks
    at once take turns and the second sees what the first did.
    """
    subscriber = session.get(Subscriber, subscriber_id, with_for_update=lock)
    if subscriber is None or subscriber.email is None:
        return None
    return subscriber


def _view(subscriber: Subscriber) -> SubscriberView:
    assert subscriber.email is not None
    return SubscriberView(
        mask_address(subscriber.email), subscriber.status, _may_undo_unsubscribe(subscriber)
    )


def _may_undo_unsubscribe(subscriber: Subscriber) -> bool:
    """Only the person's own recent unsubscribe can be undone by a click.

    Unsubscribe links never expire, so without the time limit anyone holding an old or
    forwarded newsletter could sign the person back up; an admin's removal, a bounce or a
    complaint is never undone from a web page.
    """
    return (
        subscriber.status == SubscriberStatus.UNSUBSCRIBED
        and subscriber.unsubscribe_source in SELF_SERVICE_SOURCES
        and subscriber.unsubscribed_at is not None
        and subscriber.unsubscribed_at >= utcnow() - RESUBSCRIBE_WINDOW
    )


def view(session: Session, subscriber_id: int) -> SubscriberView | None:
    """Read-only: what a GET page shows. None for a forgotten subscriber."""
    subscriber = _known(session, subscriber_id)
    return _view(subscriber) if subscriber else None


def unsubscribe_by_link(
    session: Session, subscriber_id: int, source: UnsubscribeSource | str
) -> SubscriberView | None:
    """Unsubscribe at once; someone who bounced or complained keeps that stronger status.

    Also what a mail client's unsubscribe mail or an ARF opt-out report does
    (``returns.apply``), its way in (``imap``, ``inbound``...) as the source."""
    subscriber = _known(session, subscriber_id)
    if subscriber is None:
        return None
    if subscriber.status not in OPTED_OUT:
        unsubscribe(session, subscriber, source)
    return _view(subscriber)


def resubscribe(session: Session, subscriber_id: int) -> ResubscribeOutcome:
    """Undo an unsubscribe from the page right after it ("Toch weer aanmelden").

    Only an *unsubscribed* person comes back this way: a bounced address is not fixed by a
    click, a complaint is not taken back by one, and a pending sign-up needs its confirm link.
    """
    subscriber = _known(session, subscriber_id)
    if subscriber is None:
        return "sign up again"
    if subscriber.status == SubscriberStatus.ACTIVE:
        return "already active"
    if not _may_undo_unsubscribe(subscriber):
        return "sign up again"
    subscriber.status = SubscriberStatus.ACTIVE
    subscriber.confirmed_at = utcnow()  # their yes, as the admin's --resubscribe records it
    subscriber.unsubscribed_at = None
    subscriber.unsubscribe_source = None
    record_event(session, "resubscribe", WEB_ACTOR, subscriber.id)
    return "resubscribed"


def request_signup(
    session: Session,
    address: str,
    name: str | None,
    *,
    source: ConsentSource,
    form_hash: str | None,
) -> SignupRequest:
    """Record a sign-up from the form or the API; ``address`` is already normalised.

    New address: a pending subscriber. Pending or opted out: unchanged, the mail is sent
    (again). Active: unchanged, no mail. The caller answers all four the same way. Every
    sign-up that gets a mail is the one its confirmation will answer: its evidence is kept.
    """
    now = utcnow()
    subscriber = find(session, address)
    if subscriber is None:
        subscriber = Subscriber(
            email=address, name=name, status=SubscriberStatus.PENDING, created_at=now
        )
        session.add(subscriber)
        session.flush()
        record_event(session, "signup", WEB_ACTOR, subscriber.id)
    if subscriber.status != SubscriberStatus.ACTIVE:
        consent.record_signup(subscriber, source, now, form_hash=form_hash)
    return SignupRequest(
        subscriber_id=subscriber.id,
        address=address,
        name=subscriber.name,
        send_confirmation=subscriber.status != SubscriberStatus.ACTIVE,
    )


@dataclass(frozen=True, slots=True)
class Newcomer:
    """Someone whose sign-up was just confirmed: whom the welcome mail goes to."""

    subscriber_id: int
    address: str
    name: str | None


@dataclass(frozen=True, slots=True)
class Confirmation:
    """What a confirm link does; ``newcomer`` is whom to welcome (only when this click
    activated them, so pressing the button twice never welcomes anyone twice)."""

    view: SubscriberView
    outcome: ConfirmOutcome
    newcomer: Newcomer | None = None


def _confirm_outcome(subscriber: Subscriber, made: datetime) -> ConfirmOutcome:
    """A link made at ``made`` answers one sign-up. Once the reader has said yes or no
    since, it is spent: a confirm (by this link or another), "Toch weer aanmelden", an
    unsubscribe, a removal or a complaint stamps ``confirmed_at`` or ``unsubscribed_at``,
    and a bounce only ever follows a yes. Links are stamped to the whole second, so one
    made in the same second as such a change counts as older: in doubt, it is spent.

    So a pending reader's link works once, and someone who opted out comes back only
    through a link mailed after they did (they signed up again, and read that mail).
    """
    if subscriber.status == SubscriberStatus.ACTIVE:
        return "already confirmed"
    answers = [t for t in (subscriber.confirmed_at, subscriber.unsubscribed_at) if t is not None]
    return "to confirm" if not answers or made > max(answers) else "spent"


def confirm_page(session: Session, subscriber_id: int, made: datetime) -> Confirmation | None:
    """Read-only: what the link's page shows before any click. None: forgotten."""
    subscriber = _known(session, subscriber_id)
    if subscriber is None:
        return None
    return Confirmation(_view(subscriber), _confirm_outcome(subscriber, made))


def confirm(
    session: Session, subscriber_id: int, made: datetime, request: ConfirmingRequest
) -> Confirmation | None:
    """Activate the sign-up a link made at ``made`` answers; the one way back for someone
    who had opted out. A spent link, or an active reader, changes nothing. ``request`` is
    what is kept of the confirming request, as proof of consent."""
    subscriber = _known(session, subscriber_id, lock=True)
    if subscriber is None:
        return None
    outcome = _confirm_outcome(subscriber, made)
    if outcome != "to confirm":
        return Confirmation(_view(subscriber), outcome)
    assert subscriber.email is not None
    newcomer = Newcomer(subscriber.id, subscriber.email, subscriber.name)
    returning = subscriber.status in OPTED_OUT
    subscriber.status = SubscriberStatus.ACTIVE
    subscriber.confirmed_at = utcnow()
    subscriber.unsubscribed_at = None
    subscriber.unsubscribe_source = None
    consent.record_confirmation(subscriber, request)
    detail = {"returning": True} if returning else {}
    record_event(session, "confirm", WEB_ACTOR, subscriber.id, **detail)
    release_forgotten_twin(session, subscriber)
    return Confirmation(_view(subscriber), "confirmed", newcomer)


def release_forgotten_twin(session: Session, subscriber: Subscriber) -> None:
    """A person who was erased and has now confirmed (again, or a new address) frees their
    old erased row's hash.

    Otherwise erasing them a second time would collide with the first erasure's hash.
    """
    assert subscriber.email is not None
    digest = forgotten_hash(forget_salt(session), subscriber.email)
    twin = session.scalars(
        select(Subscriber).where(Subscriber.forgotten_hash == digest)
    ).one_or_none()
    if twin is not None:
        twin.forgotten_hash = None
