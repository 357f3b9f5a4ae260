"""How fast messages may go: a configured rate limit plus a brake the relay can pull.

The limit is a token bucket (the GCRA form): every message books the next free slot,
``1/rate`` after the previous one, on a fixed grid, so an event loop that wakes a little
late does not slow the long-run rate. The grid may lag the clock by up to
``credit_seconds``: after a stall (a loaded machine, a slow relay reply on every lane) the
slots that went by unused are still there and the send catches up, so a long send holds
the configured rate within a fraction of a percent. It can never run ahead: counted from
the first message, no more than ``rate × elapsed + 1`` messages are ever booked.

The brake is AIMD on the share of pushback (see ``attempt.py``) among the last
``window`` replies, never on a single reply: more than ``threshold`` of them and the rate
is cut by ``cut_factor`` (then the window starts afresh, so the replies that were already
in flight cannot cut twice), and no second cut comes within ``cut_cooldown`` seconds: a
relay that closes on every lane at once is one complaint, not four. Each
``recovery_seconds`` without a cut, the rate climbs back by a ``1/recovery_steps`` share
of where it was before the first cut, until it is there.

Everything takes its time from an injected ``clock`` so tests need no sleeping.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tuning:
    """The brake's and the bucket's constants (tests make recovery quicker)."""

    floor: float = 1.0
    window: int = 50
    threshold: float = 0.05
    cut_factor: float = 0.5
    cut_cooldown: float = 1.0
    recovery_seconds: float = 2.0
    recovery_steps: int = 10
    credit_seconds: float = 1.0
    measure_messages: int = 100


class Throttle:
    def __init__(
        self,
        limit: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        tuning: Tuning | None = None,
    ) -> None:
        self._limit = limit if limit else None
        self._clock = clock
        self._tuning = tuning or Tuning()
        self._next_slot: float | None = None  # the grid starts with the first message
        self._reduced: float | None = None
        self._recover_to = 0.0
        self._last_change = float("-inf")
        self._sent_times: deque[float] = deque(maxlen=self._tuning.measure_messages)
        self._replies: deque[bool] = deque(maxlen=self._tuning.window)
        self._pushbacks = 0
        self.cuts = 0
        self.recoveries = 0

    @property
    def rate(self) -> float | None:
        """Messages per second allowed right now; None means no limit."""
        if self._reduced is None:
            return self._limit
        return self._reduced if self._limit is None else min(self._limit, self._reduced)

    @property
    def slowed_down(self) -> bool:
        return self._reduced is not None

    def reserve(self) -> float:
        """Book the slot of the next message; returns how many seconds to wait for it."""
        now = self._clock()
        self._sent_times.append(now)
        self._recover(now)
        rate = self.rate
        if rate is None:
            return 0.0
        interval = 1.0 / rate
        if self._next_slot is None:
            self._next_slot = now
        # Unused slots older than the credit are gone; younger ones may still be used.
        slot = max(self._next_slot, now - max(self._tuning.credit_seconds, interval))
        self._next_slot = slot + interval
        return max(0.0, slot - now)

    def record(self, pushback: bool) -> None:
        """One reply from the relay; cut the rate when too many recent ones pushed back."""
        if len(self._replies) == self._replies.maxlen and self._replies[0]:
            self._pushbacks -= 1
        self._replies.append(pushback)
        self._pushbacks += pushback
        tuning = self._tuning
        if self._pushbacks <= tuning.threshold * tuning.window:
            return
        now = self._clock()
        if now - self._last_change < tuning.cut_cooldown and self._reduced is not None:
            return
        current = self.rate or self._measured_rate()
        if self._reduced is None:
            self._recover_to = current
        self._reduced = max(tuning.floor, current * tuning.cut_factor)
        # A cut rate starts its grid now: no credit from the faster rate carries over.
        self._next_slot = max(self._next_slot or now, now)
        self._last_change = now
        self._replies.clear()
        self._pushbacks = 0
        self.cuts += 1
        log.warning("the relay pushes back; slowing down to %.1f msgs/s", self._reduced)

    def _recover(self, now: float) -> None:
        tuning = self._tuning
        if self._reduced is None or now - self._last_change < tuning.recovery_seconds:
            return
        self._reduced += max(tuning.floor, self._recover_to / tuning.recovery_steps)
        self._last_change = now
        if self._reduced >= self._recover_to:
            self._reduced = None
            self.recoveries += 1
            log.info("the relay stopped pushing back; back to full speed")

    def _measured_rate(self) -> float:
        """The rate of the last ``measure_messages`` messages: the base of a first cut."""
        times = self._sent_times
        span = times[-1] - times[0] if len(times) > 1 else 0.0
        if span <= 0:
            return self._tuning.floor
        return max(self._tuning.floor, (len(times) - 1) / span)
