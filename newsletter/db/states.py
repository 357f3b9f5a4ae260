"""The life of an edition and of a delivery: which moves are allowed, and which rows are due.

Every rule about statuses is here, so the ledger that claims, the due-work job that looks
for editions to send, ``status`` and ``editions show`` cannot disagree about them (they
once did, by one tick, about when a lease lapses). It lives in ``db`` rather than in
``delivery`` because the post queue, in ``db`` too, asks "did this edition reach anyone",
and ``db`` may not import from the layer above it. The statuses themselves stay in ``models``,
where the tables' CHECK constraints are made from them.

The moves, as data in :data:`EDITION` and :data:`DELIVERY`:

- an edition is made a ``draft``; a draft is ``held`` (a failed check, too many returns)
  or starts ``sending``; a held edition is released to ``draft`` again; a sending edition
  is ``sent`` once no delivery is open; anything not sent may be ``cancelled``.
- a delivery is made ``queued``; a sender claims it (``sending``) and records it ``sent``,
  ``deferred`` (tried again later, when it is claimed again) or ``failed``, or ``skipped``
  (its reader left); an untried claim goes back to ``queued``, and a claim whose lease
  lapsed is claimed again by another sender. Cancelling skips the queued and deferred.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

from sqlalchemy import ColumnElement, Select, Table, Update, and_, exists, func, or_, select, update

from newsletter.db.models import Delivery, DeliveryStatus, Edition, EditionStatus

_deliveries = typing.cast(Table, Delivery.__table__)
S = TypeVar("S", EditionStatus, DeliveryStatus)


@dataclass(frozen=True)
class Lifecycle(Generic[S]):
    """The allowed moves of one kind of row, as data: status -> the statuses it may become."""

    kind: str
    moves: Mapping[S, frozenset[S]]

    def may_move(self, current: str, target: S) -> bool:
        return target in self.moves.get(typing.cast(S, current), frozenset())

    def check(self, current: str, target: S) -> S:
        """``target``, if a row in ``current`` may become it; a move the rules do not know
        is a bug in the caller, so it raises instead of writing a state that cannot be."""
        if not self.may_move(current, target):
            raise ValueError(f"{self.kind} cannot go from {current} to {target}")
        return target

    def unfinished(self) -> tuple[S, ...]:
        """The statuses a row can still leave; the others are final."""
        return tuple(status for status, moves in self.moves.items() if moves)


EDITION = Lifecycle[EditionStatus](
    "an edition",
    {
        EditionStatus.DRAFT: frozenset(
            {EditionStatus.HELD, EditionStatus.SENDING, EditionStatus.CANCELLED}
        ),
        EditionStatus.HELD: frozenset({EditionStatus.DRAFT, EditionStatus.CANCELLED}),
        EditionStatus.SENDING: frozenset({EditionStatus.SENT, EditionStatus.CANCELLED}),
        EditionStatus.SENT: frozenset(),
        EditionStatus.CANCELLED: frozenset(),
    },
)
DELIVERY = Lifecycle[DeliveryStatus](
    "a delivery",
    {
        DeliveryStatus.QUEUED: frozenset({DeliveryStatus.SENDING, DeliveryStatus.SKIPPED}),
        DeliveryStatus.SENDING: frozenset(
            {
                DeliveryStatus.SENDING,
                DeliveryStatus.SENT,
                DeliveryStatus.DEFERRED,
                DeliveryStatus.FAILED,
                DeliveryStatus.SKIPPED,
                DeliveryStatus.QUEUED,
            }
        ),
        DeliveryStatus.DEFERRED: frozenset({DeliveryStatus.SENDING, DeliveryStatus.SKIPPED}),
        DeliveryStatus.SENT: frozenset(),
        DeliveryStatus.FAILED: frozenset(),
        DeliveryStatus.SKIPPED: frozenset(),
    },
)

# Open work: rows a sender still has to do something with (queued, sending, deferred);
# sent, failed and skipped are finished. An edition with no open row is done.
OPEN = DELIVERY.unfinished()
# Editions whose post readers have (or are getting): the web archive shows them.
PUBLISHED = (EditionStatus.SENT, EditionStatus.SENDING)


def move_edition(edition: Edition, target: EditionStatus) -> None:
    """Set ``edition``'s status, if the rules allow the move (see :meth:`Lifecycle.check`)."""
    edition.status = EDITION.check(edition.status, target)


def move_deliveries(
    sources: DeliveryStatus | Iterable[DeliveryStatus], target: DeliveryStatus
) -> Update:
    """An UPDATE of the deliveries in ``sources`` to ``target``, for the caller to narrow
    (``.where``) and complete (``.values``); refused at once when a move is not allowed."""
    froms = (sources,) if isinstance(sources, DeliveryStatus) else tuple(sources)
    for source in froms:
        DELIVERY.check(source, target)
    return update(_deliveries).where(Delivery.status.in_(froms)).values(status=target)


class Leasing(Protocol):
    """What :func:`lease_of` reads of the ``[smtp]`` section: its lease, and nothing else,
    so the rules of the statuses take a value and do not depend on the configuration."""

    @property
    def lease_minutes(self) -> float: ...


def lease_of(smtp: Leasing) -> timedelta:
    """How long a sender's claim on a row holds: ``smtp.lease_minutes``."""
    return timedelta(minutes=smtp.lease_minutes)


def due(now: datetime) -> ColumnElement[bool]:
    """Deliveries waiting for a sender at ``now``: queued, or deferred and their wait over."""
    return or_(Delivery.status == DeliveryStatus.QUEUED, _retry_due(now))


def _retry_due(now: datetime) -> ColumnElement[bool]:
    return and_(Delivery.status == DeliveryStatus.DEFERRED, Delivery.next_attempt_at <= now)


def lease_lapsed(now: datetime, lease: timedelta) -> ColumnElement[bool]:
    """Claimed deliveries whose sender let the lease lapse: ``now >= claimed_at + lease``.

    The boundary is inclusive: at exactly ``claimed_at + lease`` the row is free again. A
    sender renews its lease well before that (every third of it) while it still works.
    """
    return and_(Delivery.status == DeliveryStatus.SENDING, Delivery.claimed_at <= now - lease)


def claimable(now: datetime, lease: timedelta) -> ColumnElement[bool]:
    """Deliveries a sender may claim at ``now``: due, or left behind by a lapsed lease."""
    return or_(due(now), lease_lapsed(now, lease))


def in_flight() -> ColumnElement[bool]:
    """Deliveries some sender holds (or held, if it died): lease or no lease."""
    return Delivery.status == DeliveryStatus.SENDING


def still_open() -> ColumnElement[bool]:
    """Deliveries not finished yet: while an edition has any, it is not sent."""
    return Delivery.status.in_(OPEN)


def count_claimable(edition_id: int, now: datetime, lease: timedelta) -> Select[int]:
    """How many of one edition's deliveries a sender could claim at ``now``.

    Counted as the sum of the three kinds of :func:`claimable` row, each one range of the
    edition's work index (``ix_deliveries_work``): one count under the ``OR`` reads every
    row of the edition, a million in a large list's."""
    kinds = (Delivery.status == DeliveryStatus.QUEUED, _retry_due(now), lease_lapsed(now, lease))
    counts = [
        select(func.count())
        .select_from(_deliveries)
        .where(Delivery.edition_id == edition_id, kind)
        .scalar_subquery()
        for kind in kinds
    ]
    return select(counts[0] + counts[1] + counts[2])


def ready_to_send(now: datetime) -> ColumnElement[bool]:
    """Editions a sender may work on at ``now``: sending already, or a scheduled draft whose
    review wait (``send_after``) is over. A draft made by hand waits for ``send``."""
    return or_(
        Edition.status == EditionStatus.SENDING,
        and_(
            Edition.status == EditionStatus.DRAFT,
            Edition.week_key.is_not(None),
            or_(Edition.send_after.is_(None), Edition.send_after <= now),
        ),
    )


def reached_someone() -> ColumnElement[bool]:
    """Editions (correlated on ``Edition.id``) of which at least one message went out."""
    return exists().where(Delivery.edition_id == Edition.id, Delivery.status == DeliveryStatus.SENT)
