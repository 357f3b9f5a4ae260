"""When editions are due: the weekly slot, its week key, and the catch-up rule. Pure.

The scheduler daemon asks :func:`due_slot` what to do at a given moment; the answer
depends only on the configuration and the clock it is given, which is what makes DST
changes and downtime testable with an injected clock. Whether a week's edition was
already made is *not* decided here but by the database (a unique ``week_key``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from newsletter.config import ScheduleSection
from newsletter.errors import ConfigError

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# In a crontab 0 and 7 are Sunday; APScheduler 3 counts from Monday, so numbers become names.
_CRONTAB_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_CRONTAB_DAY_NUMBER = re.compile(r"(?<![/\d])\d+")
_SHORT_FORM = re.compile(r"^\s*([a-z]{3})[a-z]*\s+(\d{1,2}):(\d{2})\s*$", re.IGNORECASE)


def make_trigger(schedule: ScheduleSection) -> CronTrigger:
    """``"mon 07:00"`` or a 5-field crontab line, in the configured time zone."""
    zone = ZoneInfo(schedule.timezone)
    short = _SHORT_FORM.match(schedule.cron)
    try:
        if short:
            weekday = short.group(1).lower()
            if weekday not in _WEEKDAYS:
                raise ValueError(f"unknown weekday {short.group(1)!r}")
            return CronTrigger(
                day_of_week=weekday,
                hour=int(short.group(2)),
                minute=int(short.group(3)),
                timezone=zone,
            )
        fields = schedule.cron.split()
        if len(fields) != 5:
            raise ValueError(f"wrong number of fields ({len(fields)}, expected 5)")
        minute, hour, day, month, day_of_week = fields
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_CRONTAB_DAY_NUMBER.sub(
                lambda number: _CRONTAB_DAYS[int(number.group()) % 7], day_of_week
            ),
            timezone=zone,
        )
    except ValueError as exc:
        raise ConfigError(
            f"schedule.cron {schedule.cron!r} is not 'mon 07:00' or a 5-field crontab: {exc}"
        ) from None


def week_key(slot: datetime, zone: tzinfo) -> str:
    """The ISO week of a slot in local time, e.g. ``2026-W13``: one edition per key."""
    year, week, _ = slot.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


def slots_between(trigger: CronTrigger, start: datetime, end: datetime) -> list[datetime]:
    """Every fire time in ``(start, end]``, oldest first.

    When clocks go back, a local time such as 02:30 happens twice; it is one slot, the
    first. Arithmetic is done in UTC: aware datetimes with the same tzinfo add wall time.
    """
    found: list[datetime] = []
    current = trigger.get_next_fire_time(None, start)
    while current is not None and current <= end:
        wall_time = current.replace(tzinfo=None)
        if current > start and not (found and found[-1].replace(tzinfo=None) == wall_time):
            found.append(current)
        after = (current.astimezone(UTC) + timedelta(seconds=1)).astimezone(current.tzinfo)
        current = trigger.get_next_fire_time(current, after)
    return found


def latest_slot(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The most recent fire time at or before ``now`` (looking back at most eight days)."""
    slots = slots_between(trigger, now.astimezone(UTC) - timedelta(days=8), now)
    return slots[-1] if slots else None


@dataclass(frozen=True)
class Decision:
    action: Literal["send", "too late", "nothing due"]
    slot: datetime | None
    week_key: str | None


def due_slot(schedule: ScheduleSection, now: datetime) -> Decision:
    """What the daemon should do at ``now``: send this week's slot, or why not.

    A slot more than ``catch_up_hours`` in the past is stale: sending last Monday's
    edition on Thursday surprises readers more than skipping it does.
    """
    trigger = make_trigger(schedule)
    slot = latest_slot(trigger, now)
    if slot is None:
        return Decision("nothing due", None, None)
    key = week_key(slot, ZoneInfo(schedule.timezone))
    if now - slot > timedelta(hours=schedule.catch_up_hours):
        return Decision("too late", slot, key)
    return Decision("send", slot, key)


def next_slot(schedule: ScheduleSection, now: datetime) -> datetime | None:
    fire_time: datetime | None = make_trigger(schedule).get_next_fire_time(None, now)
    return fire_time
