"""Pure rules with an injected clock: rate limit, brake and recovery, backoff, reply classes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from newsletter.delivery.attempt import Outcome, classify, enhanced_status
from newsletter.delivery.outcomes import RetryPolicy
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


def test_backoff_doubles_from_five_minutes_and_gives_up_after_a_day():
    policy = RetryPolicy(first=timedelta(minutes=5), longest=timedelta(hours=24))
    waits = []
    attempts = 1
    while (delay := policy.delay_after(attempts)) is not None:
        waits.append(delay.total_seconds() / 60)
        attempts += 1
    assert waits == [5, 10, 20, 40, 80, 160, 320, 640, 1280]
    assert attempts == 10  # the tenth failure is final


@pytest.mark.parametrize(
    ("code", "text", "stage", "outcome", "bounced", "pushback"),
    [
        (250, "2.0.0 OK", "message", Outcome.SENT, False, False),
        (550, "5.1.1 <x@y>: User unknown", "rcpt", Outcome.FAILED, True, False),
        (550, "5.7.1 Rejected by policy", "message", Outcome.FAILED, False, False),
        (552, "5.2.2 Mailbox full", "rcpt", Outcome.FAILED, False, False),
        (451, "4.7.1 Try again later", "rcpt", Outcome.DEFERRED, False, False),
        (450, "4.2.0 Mailbox busy", "rcpt", Outcome.DEFERRED, False, False),
        (421, "4.3.2 Service not available", "connect", Outcome.DEFERRED, False, True),
        (452, "4.7.0 Too many messages", "mail", Outcome.DEFERRED, False, True),
        (554, "5.7.1 Sender refused", "mail", Outcome.DEFERRED, False, False),
        (535, "5.7.8 Authentication failed", "connect", Outcome.DEFERRED, False, False),
    ],
)
def test_reply_classification(code, text, stage, outcome, bounced, pushback):
    attempt = classify(code, text, stage)
    assert (attempt.outcome, attempt.bounced, attempt.pushback) == (outcome, bounced, pushback)
    assert attempt.connection_failed == (stage == "connect")


def test_enhanced_status_is_read_from_the_start_only():
    assert enhanced_status("5.1.1 <a@b>: unknown") == "5.1.1"
    assert enhanced_status("User unknown 5.1.1") is None
