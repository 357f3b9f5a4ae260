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


def test_pushback_share_halves_the_rate_and_probes_back_slowly():
    clock = Clock()
    tuning = Tuning(window=50, threshold=0.05, recovery_seconds=5.0, probe_share=0.25)
    throttle = Throttle(100.0, clock=clock, tuning=tuning)
    start = clock.now
    _send(throttle, clock, 100)
    _replies(throttle, 0, 100)
    throttle.record(True)
    throttle.record(True)
    assert throttle.rate == 100.0  # one or two replies are no trend
    throttle.record(True)
    assert throttle.rate == 50.0 and throttle.cuts == 1
    _replies(throttle, 3, 3)  # every connection hears "slow down" at once: one cut only
    assert throttle.rate == 50.0
    clock.now += 5.0
    throttle.reserve()
    assert throttle.rate == 50.0, "climbed back before the relay accepted anything"
    throttle.record(False)  # accepted again: the relay took 101 messages in about 6 s
    ceiling = 101 / (clock.now - start)
    assert throttle.ceiling == pytest.approx(ceiling)
    assert throttle.rate == pytest.approx(0.95 * ceiling)
    rates = []
    for _ in range(3):
        clock.now += 5.0
        throttle.reserve()
        rates.append(throttle.rate)
    step = 0.25 * ceiling  # additive: a quarter of the ceiling per quiet step
    assert rates == pytest.approx([0.95 * ceiling + (n + 1) * step for n in range(3)])
    assert throttle.recoveries == 0


def test_a_cut_after_a_learned_ceiling_is_gentle_and_the_brake_lets_go_at_the_limit():
    clock = Clock()
    tuning = Tuning(recovery_seconds=1.0, probe_share=0.5, cut_cooldown=0.5)
    throttle = Throttle(20.0, clock=clock, tuning=tuning)

    def accepted(seconds: float) -> None:
        end = clock.now + seconds
        while clock.now < end:
            clock.now += throttle.reserve()
            throttle.record(False, throttle.bookings)

    accepted(2.0)
    _replies(throttle, 3, 3)
    assert throttle.rate == 10.0 and throttle.ceiling is None  # halved: nothing known yet
    clock.now += 1.0
    accepted(3.0)
    assert throttle.ceiling is not None and throttle.recoveries == 1  # probed up to 20
    held = throttle.rate
    _replies(throttle, 3, 3)
    assert held is not None and throttle.rate == pytest.approx(held * 0.9)  # gentle
    accepted(10.0)
    assert throttle.rate == 20.0 and throttle.recoveries == 2 and not throttle.slowed_down


def test_an_accept_of_a_message_booked_before_the_cut_ends_no_episode():
    clock = Clock()
    throttle = Throttle(None, clock=clock)
    _send(throttle, clock, 200, work=0.005)
    booked_early = throttle.bookings
    _replies(throttle, 3, 3)
    cut_to = throttle.rate
    clock.now += 3.0
    throttle.record(False, booked_early)  # in flight when the relay began to refuse
    assert throttle.ceiling is None and throttle.rate == cut_to
    throttle.reserve()
    throttle.record(False, throttle.bookings)
    assert throttle.ceiling is not None


def _fixed_window_relay(
    throttle: Throttle, clock: Clock, allowed: int, window: float, seconds: float
) -> list[float]:
    """A relay like Postfix's anvil: ``allowed`` messages per fixed ``window`` counted from
    the first one, every other refused until the window ends; a sender that waits as
    told and takes 2 ms per transaction. Returns when each accepted message went."""
    start = clock.now
    window_start, in_window, accepted = start, 0, []
    while clock.now - start < seconds:
        clock.now += throttle.reserve() + 0.002
        if clock.now - window_start >= window:
            window_start += window * ((clock.now - window_start) // window)
            in_window = 0
        refused = in_window >= allowed
        in_window += not refused
        if not refused:
            accepted.append(clock.now - start)
        throttle.record(refused)
    return accepted


@pytest.mark.parametrize(("allowed", "window"), [(100, 10.0), (100, 60.0), (30, 1.0)])
def test_the_rate_converges_to_a_fixed_window_relay_and_holds(allowed: int, window: float):
    clock = Clock()
    throttle = Throttle(None, clock=clock)
    relay_rate = allowed / window
    seconds = max(120.0, 4 * window)
    accepted = _fixed_window_relay(throttle, clock, allowed, window, seconds)
    settled = clock.now - seconds + max(30.0, 1.5 * window)
    held = [rate for at, rate in throttle.samples if at >= settled]
    assert held, "the throttle never settled"
    assert all(0.8 * relay_rate <= rate <= 1.2 * relay_rate for rate in held), held
    late = [at for at in accepted if at >= seconds / 2]
    assert len(late) / (seconds / 2) >= 0.8 * relay_rate, "the relay's rate was not used"


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
