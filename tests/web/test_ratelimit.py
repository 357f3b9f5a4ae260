"""The sliding window, on a clock the test controls."""

from __future__ import annotations

from newsletter.web.ratelimit import SlidingWindowLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_window_slides() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(3, 60, clock=clock)

    assert [limiter.allow("1.2.3.4") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("5.6.7.8")
    clock.now += 59
    assert not limiter.allow("1.2.3.4")
    clock.now += 1.5  # the first three hits are now older than the window
    assert [limiter.allow("1.2.3.4") for _ in range(4)] == [True, True, True, False]


def test_refused_hits_do_not_extend_the_wait() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(1, 10, clock=clock)
    assert limiter.allow("a")
    for _ in range(5):
        clock.now += 1.5
        assert not limiter.allow("a")
    clock.now += 2.6  # 10.1 s after the one counted hit
    assert limiter.allow("a")


def test_tracked_keys_stay_bounded() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(1, 60, max_keys=100, clock=clock)
    for number in range(1000):
        clock.now += 0.001
        assert limiter.allow(f"10.0.{number // 256}.{number % 256}")
    assert len(limiter._hits) <= 100
    # Busy keys that survived the pruning are still limited.
    assert not limiter.allow("10.0.3.231")
