"""The daemon's timetable as APScheduler holds it: when the weekly slot fires, how often the
feeds are watched, due work is looked for and the bounce mailbox is polled."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from newsletter.config import ImapSection
from newsletter.runtime.jobs import build_scheduler
from tests.support.settings import make_settings

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def _nothing() -> None:
    """A job body: the timetable is under test, not the work."""


def _trigger(scheduler: AsyncIOScheduler, job_id: str) -> Any:
    job = scheduler.get_job(job_id)
    assert job is not None, job_id
    return job.trigger


def test_weekly_slot_watch_and_due_work_fire_when_configured() -> None:
    settings = make_settings(
        posts={"feeds": ("https://blog.example.nl/feed/",), "poll_minutes": 30},
        schedule={"cron": "mon 07:30", "timezone": "Europe/Amsterdam"},
    )
    scheduler = build_scheduler(settings, _nothing, _nothing, _nothing)
    now = datetime(2026, 12, 2, 10, 5, tzinfo=AMSTERDAM)  # a Wednesday

    weekly = _trigger(scheduler, "weekly-edition")
    assert weekly.get_next_fire_time(None, now) == datetime(2026, 12, 7, 7, 30, tzinfo=AMSTERDAM)
    assert _trigger(scheduler, "watch").interval == timedelta(minutes=30)
    assert _trigger(scheduler, "due-work").interval == timedelta(minutes=1)
    assert scheduler.get_job("bounce-mailbox") is None


def test_a_short_lease_makes_the_daemon_look_for_due_work_twice_per_lease() -> None:
    """So another host takes a dead one's claims soon after the lease lapses, not up to a
    minute later (see tests/runtime/test_hosts.py)."""
    settings = make_settings(smtp={"lease_minutes": 0.2})
    scheduler = build_scheduler(settings, _nothing, _nothing, _nothing)
    assert _trigger(scheduler, "due-work").interval == timedelta(seconds=6)


def test_the_bounce_mailbox_is_polled_only_when_configured() -> None:
    imap = replace(ImapSection(), host="127.0.0.1", user="bounces", poll_minutes=7)
    settings = replace(make_settings(), bounces_imap=imap)
    scheduler = build_scheduler(settings, _nothing, _nothing, _nothing, bounce_mailbox=_nothing)
    assert _trigger(scheduler, "bounce-mailbox").interval == timedelta(minutes=7)
    assert _trigger(scheduler, "watch").interval == timedelta(minutes=60)  # the default
