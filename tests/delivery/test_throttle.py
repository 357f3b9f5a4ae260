"""The throttle, on a clock the test controls: the rate limit and its credit after a stall,
the brake a relay's pushback pulls, and the recovery."""

from __future__ import annotations

import pytest

from newsletter.delivery.throttle import Throttle, Tuning


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _send(throttle: Throttle, clock: Clock, messages: int, work: float = 0.0) -> float:
    """Simulate a sender that waits as told and spends ``work`` seconds per message."""
    start = clock.now
    for _ in range(messages):
        clock.now += throttle.reserve() + work
    return clock.now - start


@pytest.mark.parametrize("limit", [5.0, 50.0, 800.0])
def test_rate_limit_is_kept_within_two_percent(limit: float):
    clock = Clock()
    throttle = Throttle(limit, clock=clock)
    messages = int(limit * 20)
    seconds = _send(throttle, clock, messages)
    assert abs(messages / seconds - limit) / limit < 0.02


def test_late_wakeups_do_not_lower_the_long_run_rate():
    clock = Clock()
    throttle = Throttle(100.0, clock=clock)
    start = clock.now
    for n in range(2000):
        clock.now += throttle.reserve() + (0.004 if n % 10 == 0 else 0.0)  # a late event loop
    assert abs(2000 / (clock.now - start) - 100.0) < 2.0


def test_no_limit_means_no_wait():
    clock = Clock()
    throttle = Throttle(None, clock=clock)
    assert throttle.rate is None
    assert _send(throttle, clock, 1000) == 0.0


def _replies(throttle: Throttle, pushbacks: int, total: int) -> None:
    for n in range(total):
        throttle.record(n < pushbacks)


def test_pushback_share_halves_the_rate_and_recovers_steadily():
    clock = Clock()
    tuning = Tuning(window=50, threshold=0.05, recovery_seconds=5.0, recovery_steps=4)
    throttle = Throttle(100.0, clock=clock, tuning=tuning)
    _send(throttle, clock, 100)
    throttle.record(True)
    throttle.record(True)
    assert throttle.rate == 100.0  # one or two replies are no trend
    throttle.record(True)
    assert throttle.rate == 50.0 and throttle.cuts == 1
    _replies(throttle, 3, 3)  # every connection hears "slow down" at once: one cut only
    assert throttle.rate == 50.0
    rates = []
    for _ in range(4):
        clock.now += 5.0
        throttle.reserve()
        rates.append(throttle.rate)
    assert rates == [75.0, 100.0, 100.0, 100.0]  # additive: a quarter of 100 per step
    assert not throttle.slowed_down and throttle.recoveries == 1


def test_pushback_without_a_limit_uses_the_measured_rate():
    clock = Clock()
    throttle = Throttle(None, clock=clock, tuning=Tuning(recovery_seconds=5.0))
    _send(throttle, clock, 200, work=0.005)  # 200 msgs/s
    _replies(throttle, 3, 3)
    assert throttle.rate == pytest.approx(100.0)
    clock.now += 1.5
    _replies(throttle, 3, 3)  # the complaints go on after the cooldown: cut again
    assert throttle.rate == pytest.approx(50.0)
    for _ in range(10):
        clock.now += 5.0
        throttle.reserve()
    assert throttle.rate is None


def test_a_steady_few_percent_of_pushback_never_cuts():
    throttle = Throttle(200.0, clock=Clock())
    for n in range(10_000):
        throttle.record(n % 25 == 0)  # 4 %: at most 2 of any 50 replies
    assert throttle.cuts == 0 and throttle.rate == 200.0


def test_a_pushback_share_above_the_threshold_cuts_once_per_cooldown():
    clock = Clock()
    throttle = Throttle(200.0, clock=clock, tuning=Tuning(cut_cooldown=1.0))
    for _ in range(40):  # a burst of 421s on every lane within half a second
        throttle.record(True)
        clock.now += 0.01
    assert throttle.cuts == 1 and throttle.rate == 100.0
    clock.now += 1.0
    for _ in range(3):
        throttle.record(True)
    assert throttle.cuts == 2 and throttle.rate == 50.0


def test_the_rate_never_goes_below_the_floor():
    clock = Clock()
    throttle = Throttle(10.0, clock=clock, tuning=Tuning(floor=2.0, cut_cooldown=0.0))
    for _ in range(30):
        throttle.record(True)
    assert throttle.rate == 2.0


@pytest.mark.parametrize("limit", [50.0, 300.0, 1000.0])
def test_credit_after_a_stall_keeps_the_rate_and_never_runs_ahead(limit: float):
    clock = Clock()
    throttle = Throttle(limit, clock=clock)
    start = clock.now
    messages = int(limit * 20)
    for n in range(messages):
        clock.now += throttle.reserve()
        if n in (messages // 3, 2 * messages // 3):
            clock.now += 0.8  # every lane stalls for 0.8 s: a loaded machine
        assert n + 1 <= limit * (clock.now - start) + 1 + 1e-6, "ran ahead of the limit"
    achieved = messages / (clock.now - start)
    assert abs(achieved - limit) / limit < 0.02


def test_a_stall_longer_than_the_credit_loses_only_the_excess():
    clock = Clock()
    throttle = Throttle(100.0, clock=clock, tuning=Tuning(credit_seconds=1.0))
    for _ in range(100):
        clock.now += throttle.reserve()
    clock.now += 5.0
    waits = [throttle.reserve() for _ in range(101)]
    assert waits == [0.0] * 101  # the last second's 100 slots and the current one, at once
    assert throttle.reserve() == pytest.approx(0.01)


def test_a_cut_takes_no_credit_from_the_faster_rate():
    clock = Clock()
    throttle = Throttle(100.0, clock=clock)
    throttle.reserve()
    clock.now += 0.9  # credit for 90 messages at the full rate
    for _ in range(3):
        throttle.record(True)
    assert throttle.rate == 50.0
    assert throttle.reserve() == 0.0
    assert throttle.reserve() == pytest.approx(1 / 50)
