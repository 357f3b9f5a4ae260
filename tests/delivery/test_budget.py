"""The budget every sender shares, on SQLite and PostgreSQL, with an injected clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from newsletter.db.database import Database, open_database
from newsletter.delivery.budget import Limits, SharedBudget


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_the_daily_limit_grants_what_is_left_then_waits_for_the_window(database: Database):
    clock = Clock()
    budget = SharedBudget(database.engine, Limits(per_day=300), clock=clock)
    assert budget.take(200).count == 200
    clock.now += timedelta(hours=3)
    second = budget.take(200)
    assert second.count == 100 and second.waiting is None
    refused = budget.take(50)
    assert refused.count == 0 and refused.waiting is not None
    assert refused.waiting.limit == "daily"
    # The first 200 were taken at 09:00: they leave the window a day (and a minute) later.
    assert refused.waiting.until == datetime(2026, 12, 2, 9, 1, tzinfo=UTC)
    assert budget.waiting() == refused.waiting
    assert refused.waiting.describe() == "waiting for the daily limit until 2026-12-02 09:01 UTC"

    clock.now = refused.waiting.until
    assert budget.waiting() is None
    assert budget.take(500).count == 200  # the 100 of 12:00 are still in the window


def test_the_hourly_and_daily_limits_hold_together(database: Database):
    clock = Clock()
    budget = SharedBudget(database.engine, Limits(per_hour=100, per_day=250), clock=clock)
    taken = []
    for _ in range(5):
        taken.append(budget.take(80).count)
        clock.now += timedelta(minutes=20)
    # 100 an hour; a window counts its whole first minute, so the first 80 leave it an
    # hour and a minute after they were taken (not at exactly 60).
    assert taken == [80, 20, 0, 0, 80]
    clock.now += timedelta(hours=1, minutes=1)
    assert budget.take(80).count == 70  # the day's 250 are spent
    waiting = budget.take(1).waiting
    assert waiting is not None and waiting.limit == "daily"


def test_a_send_that_stopped_gives_back_what_it_did_not_use(database: Database):
    clock = Clock()
    budget = SharedBudget(database.engine, Limits(per_day=100), clock=clock)
    grant = budget.take(100)
    budget.give_back(60, grant.minute)
    assert budget.take(100).count == 60


def test_senders_share_one_grid_of_slots(database: Database):
    clock = Clock()
    limits = Limits(per_second=20)
    first = SharedBudget(database.engine, limits, clock=clock)
    second = SharedBudget(database.engine, limits, clock=clock)
    start = clock.now.timestamp()
    grants = [first.take(5), second.take(5), first.take(5)]
    assert [grant.first_slot - start for grant in grants] == [0.0, 0.25, 0.5]
    assert {grant.interval for grant in grants} == {0.05}
    # Nobody sent for a minute: the grid starts afresh at now, with no burst of credit.
    clock.now += timedelta(minutes=1)
    assert second.take(5).first_slot == clock.now.timestamp()


def test_takers_in_parallel_never_spend_the_same_message(database_url: str):
    """Six threads, each with its own engine (as separate processes have), take one
    message at a time from a daily budget of 250: exactly 250 are granted."""
    open_database(database_url).dispose()
    granted: list[int] = []
    lock = threading.Lock()

    def taker() -> None:
        database = open_database(database_url)
        budget = SharedBudget(database.engine, Limits(per_second=1000, per_day=250))
        mine = sum(budget.take(1).count for _ in range(60))
        with lock:
            granted.append(mine)
        database.dispose()

    threads = [threading.Thread(target=taker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(granted) == 250
