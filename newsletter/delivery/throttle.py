"""How fast messages may go: a configured rate limit plus a brake the relay can pull.

The limit is a token bucket (the GCRA form): every message books the next free slot,
``1/rate`` after the previous one, on a fixed grid, so an event loop that wakes a little
late does not slow the long-run rate. The grid may lag the clock by up to
``credit_seconds``: after a stall (a loaded machine, a slow relay reply on every lane) the
slots that went by unused are still there and the send catches up, so a long send holds
the configured rate within a fraction of a percent. It can never run ahead: counted from
the first message, no more than ``rate × elapsed + 1`` messages are ever booked.

The brake learns the rate the relay accepts and holds it. It acts on the share of
pushback (see ``attempt.py``) among the last ``window`` replies, never on a single
reply: more than ``threshold`` of them and the rate is cut (then the window starts
afresh, so the replies that were already in flight cannot cut twice), and no second cut
comes within ``cut_cooldown`` seconds: a relay that closes on every lane at once is one
complaint, not four. A cut starts an *episode* that ends with the first reply that is
not pushback. Then the relay's rate is learned, as it counts it: the replies it accepted
since the previous episode ended (or since the first message) over that time. A relay
that allows N messages per window and refuses the rest until the window ends is measured
exactly, whatever its window. The rate is set to ``hold_share`` of that ceiling and
climbs from there by ``probe_share`` of it each ``recovery_seconds`` without a cut (or
each ``1/probes_per_span`` of the span measured, if longer: a relay that counts over a
minute is probed as slowly), so a relay that allows more is found. Until a ceiling is
known a cut halves the rate (``cut_factor``); once it is known, a cut is gentle
(``gentle_factor``), one an episode: the sender was probing just above it; a relay that
counts per window then refuses until its window ends, and what it accepted over the span
is learned again (never below that gentle cut: a sender below the limit for part of the
span sees less than the limit). An episode ends only when the relay accepts a message
booked after its first cut (one in flight then proves nothing). The ceiling is kept for
the run (not across runs: a relay's limit is per client and its window restarts with the
next run); when the probe climbs back to the rate before the first cut (or the
configured limit) the brake lets go, a recovery.

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
    gentle_factor: float = 0.9
    cut_cooldown: float = 1.0
    hold_share: float = 0.95
    probe_share: float = 0.01
    probes_per_span: int = 5
    recovery_seconds: float = 2.0
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
        self._episode = False
        self._span_start: float | None = None  # when the replies being counted began
        self._accepted = 0  # replies that were not pushback since ``_span_start``
        self._cut_booking = 0
        self._probe_every = self._tuning.recovery_seconds
        self.bookings = 0  # messages booked so far: a reply says which one it answers
        self.ceiling: float | None = None  # the rate the relay accepts, once learned
        self.samples: list[tuple[float, float]] = []  # (time, rate) at every change
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
        if self._span_start is None:
            self._span_start = now
        self._sent_times.append(now)
        self.bookings += 1
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

    def record(self, pushback: bool, booking: int | None = None) -> None:
        """One reply from the relay, to the message of ``booking`` (by default the latest):
        cut the rate when too many recent ones pushed back; learn the relay's rate when it
        accepts again a message booked after the episode's first cut."""
        if not pushback:
            self._accepted += 1
            if self._episode and (booking is None or booking > self._cut_booking):
                self._learn(self._clock())
        if len(self._replies) == self._replies.maxlen and self._replies[0]:
            self._pushbacks -= 1
        self._replies.append(pushback)
        self._pushbacks += pushback
        tuning = self._tuning
        if self._pushbacks <= tuning.threshold * tuning.window:
            return
        if self._episode and self.ceiling is not None:
            return  # one gentle cut an episode: the window ends, then we learn
        now = self._clock()
        if now - self._last_change < tuning.cut_cooldown and self._reduced is not None:
            return
        self._cut(now)

    def _cut(self, now: float) -> None:
        tuning = self._tuning
        current = self.rate or self._measured_rate()
        if self._reduced is None:
            self._recover_to = current
        factor = tuning.cut_factor if self.ceiling is None else tuning.gentle_factor
        # Cut again while it still refuses, never below what the relay took so far in this
        # span: halving on while it refuses until its window ends only overshoots.
        start = self._span_start if self._span_start is not None else now
        taken = self._accepted / max(now - start, 1.0) if self._episode else 0.0
        self._set(now, max(tuning.floor, current * factor, min(current, taken)))
        # A cut rate starts its grid now: no credit from the faster rate carries over.
        self._next_slot = max(self._next_slot or now, now)
        self._replies.clear()
        self._pushbacks = 0
        if not self._episode:  # the episode's first cut: what was in flight proves nothing
            self._cut_booking = self.bookings
        self._episode = True
        self.cuts += 1
        log.warning("the relay pushes back; slowing down to %.1f msgs/s", self._reduced)

    def _learn(self, now: float) -> None:
        """The relay accepts again: its rate is what it accepted over the span that ended."""
        tuning = self._tuning
        start = self._span_start if self._span_start is not None else now
        self._episode = False
        # A span shorter than the cooldown is counted as that long: never an absurd rate.
        span = max(now - start, tuning.cut_cooldown)
        # Below the relay's limit it accepts all we send, so the count can fall short of
        # its rate: after a gentle cut the rate never goes lower than that cut.
        held = max(tuning.floor, self._accepted / span) * tuning.hold_share
        if self.ceiling is not None and self._reduced is not None:
            held = max(held, self._reduced)
        self.ceiling = held / tuning.hold_share
        # A relay that counts over a long window is probed as slowly: a few steps a span.
        self._probe_every = max(tuning.recovery_seconds, span / tuning.probes_per_span)
        self._span_start, self._accepted = now, 0
        self._replies.clear()  # the episode's pushbacks are answered: they cut no more
        self._pushbacks = 0
        self._set(now, held)
        log.info("the relay accepts about %.1f msgs/s; holding %.1f", self.ceiling, held)

    def _recover(self, now: float) -> None:
        tuning = self._tuning
        if self._reduced is None or self._episode or now - self._last_change < self._probe_every:
            return
        step = tuning.probe_share * (self.ceiling or self._recover_to)
        raised = self._reduced + max(step, tuning.floor * tuning.probe_share)
        if raised < min(self._recover_to, self._limit or self._recover_to):
            self._set(now, raised)
            log.debug("probing %.1f msgs/s", raised)
            return
        self._reduced = None
        self._last_change = now
        self.recoveries += 1
        log.info("the relay stopped pushing back; back to full speed")

    def _set(self, now: float, rate: float) -> None:
        self._reduced = rate
        self._last_change = now
        self.samples.append((now, rate))

    def _measured_rate(self) -> float:
        """The rate of the last ``measure_messages`` messages: the base of a first cut."""
        times = self._sent_times
        span = times[-1] - times[0] if len(times) > 1 else 0.0
        if span <= 0:
            return self._tuning.floor
        return max(self._tuning.floor, (len(times) - 1) / span)
