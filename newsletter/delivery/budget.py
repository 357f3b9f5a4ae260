"""Sending limits shared by every sender: kept in the database, taken atomically.

Several daemons on one PostgreSQL, or a ``send --resume`` beside a daemon, must together
respect ``smtp.max_per_second``, ``max_per_hour`` and ``max_per_day``, not each of them.
So the budget lives in two tables and a sender takes a small chunk of it at a time, in a
transaction that first locks the single ``send_pace`` row (a row lock on PostgreSQL, the
write lock on SQLite), so takers queue up and never both spend the same message:

* per second: one GCRA grid for everybody. ``send_pace.next_slot`` is when the next
  message may go; a chunk of ``n`` books ``n`` slots ``1/rate`` apart and moves it on. A
  grid that fell behind by less than ``CREDIT_SECONDS`` (a stall) is caught up; one that
  fell further behind (nobody sent for a while) starts afresh at now, so no sender ever
  starts with a burst.
* per hour and per day: rolling windows over ``send_counts``, the messages taken per
  minute. A window counts its whole first minute, so it errs on the safe side by at most
  a minute. When a window is spent, nothing is granted and the grant says until when.

Times come from an injected ``clock`` (aware UTC datetimes); every sender must share one
(hosts synchronised by NTP), as they share the database.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, Table, case, delete, insert, select, update

from newsletter.config import SmtpSection
from newsletter.db.models import SendCount, SendPace, utcnow

CREDIT_SECONDS = 1.0
_pace = typing.cast(Table, SendPace.__table__)
_counts = typing.cast(Table, SendCount.__table__)
_KEEP_MINUTES = 2 * 1441


@dataclass(frozen=True)
class Limits:
    per_second: float = 0.0
    per_hour: int = 0
    per_day: int = 0

    @classmethod
    def of(cls, smtp: SmtpSection) -> Limits:
        return cls(smtp.max_per_second, smtp.max_per_hour, smtp.max_per_day)

    @property
    def any(self) -> bool:
        return bool(self.per_second or self.per_hour or self.per_day)

    def windows(self) -> list[tuple[str, int, int]]:
        """(name, limit, minutes) of each configured rolling window."""
        found = [("hourly", self.per_hour, 60), ("daily", self.per_day, 1440)]
        return [window for window in found if window[1]]


@dataclass(frozen=True)
class Waiting:
    """A window is spent: its ``limit`` ("hourly", "daily") reopens at ``until``."""

    limit: str
    until: datetime

    def describe(self) -> str:
        return f"waiting for the {self.limit} limit until {self.until:%Y-%m-%d %H:%M} UTC"

    def to_json(self) -> dict[str, str]:
        return {
            "limit": self.limit,
            "until": self.until.isoformat(timespec="seconds"),
            "text": self.describe(),
        }


@dataclass(frozen=True)
class Grant:
    """``count`` messages may go, the first at ``first_slot`` (epoch seconds of the
    clock), one every ``interval`` seconds after it; ``waiting`` when a window is spent."""

    count: int
    first_slot: float
    interval: float
    minute: int
    waiting: Waiting | None = None


class SharedBudget:
    def __init__(
        self, engine: Engine, limits: Limits, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._engine = engine
        self.limits = limits
        self.clock = clock

    def take(self, wanted: int) -> Grant:
        """Take up to ``wanted`` messages of every configured limit, atomically."""
        with self._engine.begin() as connection:
            self._lock(connection)
            now = self.clock().timestamp()
            minute = int(now // 60)
            granted, waiting = wanted, None
            for name, limit, minutes in self.limits.windows():
                left, reopens = self._left(connection, limit, minutes, minute)
                if left < granted:
                    granted = left
                if left <= 0 and (waiting is None or reopens > waiting.until):
                    waiting = Waiting(name, reopens)
            if granted <= 0:
                return Grant(0, now, 0.0, minute, waiting)
            if self.limits.windows():
                self._count(connection, minute, granted)
            first, interval = now, 0.0
            if self.limits.per_second:
                interval = 1.0 / self.limits.per_second
                booked = connection.scalar(select(SendPace.next_slot).where(SendPace.id == 1))
                first = booked if booked is not None and booked >= now - CREDIT_SECONDS else now
                connection.execute(
                    update(_pace)
                    .where(SendPace.id == 1)
                    .values(next_slot=first + granted * interval)
                )
            return Grant(granted, first, interval, minute)

    def give_back(self, count: int, minute: int) -> None:
        """Messages taken in ``minute`` but never sent (the send stopped) count no more."""
        if count <= 0 or not self.limits.windows():
            return
        with self._engine.begin() as connection:
            self._lock(connection)
            connection.execute(
                update(_counts)
                .where(SendCount.minute == minute)
                .values(sent=case((SendCount.sent > count, SendCount.sent - count), else_=0))
            )

    def waiting(self) -> Waiting | None:
        """Whether a window is spent right now (for ``editions show`` and ``status``)."""
        if not self.limits.windows():
            return None
        minute = int(self.clock().timestamp() // 60)
        with self._engine.connect() as connection:
            spent = [
                Waiting(name, reopens)
                for name, limit, minutes in self.limits.windows()
                for left, reopens in [self._left(connection, limit, minutes, minute)]
                if left <= 0
            ]
        return max(spent, key=lambda waiting: waiting.until) if spent else None

    def _lock(self, connection: Connection) -> None:
        """Queue up behind any other taker: a write to the one pace row comes first."""
        locked = connection.execute(
            update(_pace).where(SendPace.id == 1).values(next_slot=SendPace.next_slot)
        )
        if not locked.rowcount:
            connection.execute(insert(_pace).values(id=1, next_slot=0.0))

    def _left(
        self, connection: Connection, limit: int, minutes: int, minute: int
    ) -> tuple[int, datetime]:
        """What is left of a window ending in ``minute``, and when, if nothing is, enough
        old minutes have dropped out of it for the next message."""
        rows = connection.execute(
            select(SendCount.minute, SendCount.sent)
            .where(SendCount.minute >= minute - minutes)
            .order_by(SendCount.minute)
        ).all()
        used = sum(sent for _, sent in rows)
        left = limit - used
        reopens = datetime.fromtimestamp((minute + 1) * 60, UTC)
        dropped = 0
        for old_minute, sent in rows:
            dropped += sent
            if used - dropped < limit:
                reopens = datetime.fromtimestamp((old_minute + minutes + 1) * 60, UTC)
                break
        return left, reopens

    def _count(self, connection: Connection, minute: int, granted: int) -> None:
        counted = connection.execute(
            update(_counts).where(SendCount.minute == minute).values(sent=SendCount.sent + granted)
        )
        if not counted.rowcount:
            connection.execute(insert(_counts).values(minute=minute, sent=granted))
            connection.execute(delete(_counts).where(SendCount.minute < minute - _KEEP_MINUTES))


def chunk_size(limits: Limits) -> int:
    """How many messages a sender takes at once: a quarter second's worth at the
    per-second limit (so senders interleave finely), else 50 (one transaction per 50)."""
    if limits.per_second:
        return max(1, math.ceil(limits.per_second / 4))
    return 50
