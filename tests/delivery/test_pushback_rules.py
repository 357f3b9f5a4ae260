"""Pushback is the relay's, not a reader's: which replies slow the edition, and how much.

Pure rules with an injected clock (see test_rules.py for the basic rate limit).
"""

from __future__ import annotations

import pytest

from newsletter.delivery.attempt import Outcome, classify
from newsletter.delivery.throttle import Throttle, Tuning

from .test_rules import Clock


@pytest.mark.parametrize(
    ("code", "text", "stage", "pushback", "soft_bounce"),
    [
        # One reader's mailbox, for now: deferred, counted for that reader, never a brake.
        (451, "4.7.1 Greylisted, please try again later", "rcpt", False, True),
        (452, "4.2.2 Mailbox full", "rcpt", False, True),
        (451, "4.3.0 Temporary local problem", "rcpt", False, True),
        (450, "4.2.1 Too many messages for this mailbox, slow down", "rcpt", False, True),
        (452, "4.2.2 Mailbox over quota", "message", False, True),
        (451, "4.3.0 Queue file write error", "message", False, True),
        # The relay about our sending: a brake, nobody's soft bounce.
        (421, "4.3.2 Service not available, closing channel", "connect", True, False),
        (421, "4.7.0 Too many messages, slow down", "mail", True, False),
        (421, "4.4.2 Timeout, closing connection", "rcpt", True, False),
        (421, "Service shutting down", "message", True, False),
        (451, "4.7.0 Temporary rate limit, try later", "mail", True, False),
        (450, "Sending rate exceeded", "mail", True, False),
        (452, "Too many connections from your host", "connect", True, False),
        (451, "Throttled: slow down", "data", True, False),
        (451, "4.7.1 Greylisting in action", "message", True, False),
        (452, "4.3.1 Daily sending quota exceeded", "message", True, False),
        (454, "4.7.0 Try again later", "message", True, False),
        # Neither: a relay-side 4xx that is not about speed, a hard refusal.
        (452, "4.3.1 Insufficient system storage", "mail", False, False),
        (550, "5.1.1 User unknown", "rcpt", False, False),
    ],
)
def test_pushback_and_soft_bounces_are_told_apart(code, text, stage, pushback, soft_bounce):
    attempt = classify(code, text, stage)
    assert (attempt.pushback, attempt.soft_bounce) == (pushback, soft_bounce)
    assert attempt.outcome == (Outcome.FAILED if code >= 500 else Outcome.DEFERRED)


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
