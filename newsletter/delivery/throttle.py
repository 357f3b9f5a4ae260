"""How fast messages may go: a global rate limit plus a brake the relay can pull.

The limit is a token bucket holding one token (the GCRA form): every message books the
next free slot, ``1/rate`` after the previous one. Slots are booked on a fixed grid, not
"now + 1/rate", so an event loop that wakes a little late does not slow the long-run
rate: the next slot is already due. A long send therefore runs at the configured rate
within a fraction of a percent, and never bursts above it.

The brake: a 421, a 451 or a ``4.7.x`` reply means the relay wants us slower. The rate is
halved (at most once per ``cut_cooldown`` seconds, because all connections tend to hear
"slow down" at once), and then raised by ``recovery_factor`` every ``recovery_seconds``
without complaints, until it is back where it was before the first cut.

Everything takes its time from an injected ``clock`` so tests need no sleeping.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class Throttle:
    def __init__(
        self,
        limit: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        floor: float = 1.0,
        cut_cooldown: float = 1.0,
        recovery_seconds: float = 5.0,
        recovery_factor: float = 1.25,
        measure_messages: int = 100,
    ) -> None:
        self._limit = limit if limit else None
        self._clock = clock
        self._floor = floor
        self._cut_cooldown = cut_cooldown
        self._recovery_seconds = recovery_seconds
        self._recovery_factor = recovery_factor
        self._next_slot = clock()
        self._reduced: float | None = None
        self._recover_to = 0.0
        self._last_change = float("-inf")
        self._recent: deque[float] = deque(maxlen=measure_messages)

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
        self._recent.append(now)
        self._recover(now)
        rate = self.rate
        if rate is None:
            return 0.0
        slot = max(self._next_slot, now)
        self._next_slot = slot + 1.0 / rate
        return slot - now

    def pushback(self) -> None:
        """The relay asked us to slow down: halve the rate (once per cooldown)."""
        now = self._clock()
        if now - self._last_change < self._cut_cooldown and self._reduced is not None:
            return
        current = self.rate or self._measured_rate()
        if self._reduced is None:
            self._recover_to = current
        self._reduced = max(self._floor, current / 2)
        self._last_change = now

    def _recover(self, now: float) -> None:
        if self._reduced is None or now - self._last_change < self._recovery_seconds:
            return
        self._reduced *= self._recovery_factor
        self._last_change = now
        if self._reduced >= self._recover_to:
            self._reduced = None

    def _measured_rate(self) -> float:
        """The rate of the last ``measure_messages`` messages: the base of a first cut."""
        span = self._recent[-1] - self._recent[0] if len(self._recent) > 1 else 0.0
        if span <= 0:
            return self._floor
        return max(self._floor, (len(self._recent) - 1) / span)
