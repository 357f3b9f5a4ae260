"""Slots, week keys and catch-up with an injected clock, across the 2026 DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsletter.config import ScheduleSection
from newsletter.delivery.slots import due_slot, make_trigger, next_slot, slots_between, week_key
from newsletter.errors import ConfigError
from tests.support.settings import AMSTERDAM, local

MONDAY_7 = ScheduleSection(cron="mon 07:00", timezone="Europe/Amsterdam", catch_up_hours=24)


@pytest.mark.parametrize(
    ("after", "expected_local", "expected_utc"),
    [
        # Winter time (UTC+1) before 29 March 2026 ...
        (local(2026, 3, 17, 12, 0), local(2026, 3, 23, 7, 0), datetime(2026, 3, 23, 6, tzinfo=UTC)),
        # ... summer time (UTC+2) right after the change on Sunday 29 March.
        (local(2026, 3, 28, 12, 0), local(2026, 3, 30, 7, 0), datetime(2026, 3, 30, 5, tzinfo=UTC)),
        # Summer time until 25 October, winter time on Monday 26 October.
        (
            local(2026, 10, 20, 12, 0),
            local(2026, 10, 26, 7, 0),
            datetime(2026, 10, 26, 6, tzinfo=UTC),
        ),
    ],
)
def test_fires_at_seven_local_across_dst(
    after: datetime, expected_local: datetime, expected_utc: datetime
) -> None:
    fire = next_slot(MONDAY_7, after)
    assert fire == expected_local
    assert fire is not None and fire.astimezone(UTC) == expected_utc
    assert fire.astimezone(AMSTERDAM).hour == 7


def test_a_slot_in_the_changed_hour_still_fires_once() -> None:
    # 02:30 does not exist on 29 March and happens twice on 25 October (both Sundays).
    schedule = ScheduleSection(cron="sun 02:30", timezone="Europe/Amsterdam")
    spring = slots_between(make_trigger(schedule), local(2026, 3, 28), local(2026, 3, 30))
    autumn = slots_between(make_trigger(schedule), local(2026, 10, 24), local(2026, 10, 26))
    assert len(spring) == 1
    assert len(autumn) == 1


def test_a_whole_year_has_one_slot_per_week_at_seven_local() -> None:
    slots = slots_between(make_trigger(MONDAY_7), local(2025, 12, 31), local(2026, 12, 31))
    assert len(slots) == 52
    assert {s.astimezone(AMSTERDAM).strftime("%a %H:%M") for s in slots} == {"Mon 07:00"}
    keys = [week_key(s, AMSTERDAM) for s in slots]
    assert len(set(keys)) == 52


def test_crontab_form_is_accepted() -> None:
    schedule = ScheduleSection(cron="0 7 * * 1", timezone="Europe/Amsterdam")
    assert next_slot(schedule, local(2026, 3, 28)) == local(2026, 3, 30, 7, 0)


@pytest.mark.parametrize("cron", ["someday 07:00", "mon 25:00", "0 7 * *", "elke maandag"])
def test_bad_cron_is_a_config_error(cron: str) -> None:
    with pytest.raises(ConfigError, match=r"schedule\.cron"):
        make_trigger(ScheduleSection(cron=cron))


def test_catch_up_inside_the_window_sends_the_missed_slot() -> None:
    decision = due_slot(MONDAY_7, local(2026, 3, 30, 7, 0) + timedelta(hours=23))
    assert decision.action == "send"
    assert decision.slot == local(2026, 3, 30, 7, 0)
    assert decision.week_key == "2026-W14"


def test_catch_up_outside_the_window_is_skipped() -> None:
    decision = due_slot(MONDAY_7, local(2026, 3, 30, 7, 0) + timedelta(hours=25))
    assert decision.action == "too late"
    assert decision.week_key == "2026-W14"


def test_two_runs_in_the_same_week_name_the_same_week() -> None:
    first = due_slot(MONDAY_7, local(2026, 10, 26, 7, 0))
    second = due_slot(MONDAY_7, local(2026, 10, 26, 9, 30))
    assert first.action == second.action == "send"
    assert first.week_key == second.week_key == "2026-W44"


@pytest.mark.parametrize(
    ("cron", "weekday"), [("0 7 * * 0", "Sun"), ("0 7 * * 7", "Sun"), ("30 6 * * 5", "Fri")]
)
def test_crontab_day_numbers_follow_crontab_not_apscheduler(cron: str, weekday: str) -> None:
    fire = next_slot(ScheduleSection(cron=cron, timezone="Europe/Amsterdam"), local(2026, 3, 28))
    assert fire is not None and fire.strftime("%a") == weekday
