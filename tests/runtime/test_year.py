"""Five seeded weeks of the daemon without hands, on SQLite and PostgreSQL: the short
stretch of ``bench/year.py``'s year, with every kind of event in it (a DST change, a kill
mid-send and the restart after it, a relay outage over a slot, greylisting, rate limits,
dropped connections, late bounces and complaints, sign-ups, pauses and unsubscribes) and
every invariant checked after every week.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from newsletter.db.database import Database
from tests.support.year.plan import KINDS, first_monday, make_plan
from tests.support.year.simulation import Year
from tests.support.year.world import running_world

SEED = 25
WEEKS = 5
# Next year's second half of March: summer time begins within the stretch, and the whole
# stretch lies ahead of the wall clock, as the daemon's own records (made on it) expect.
START = first_monday(date.today().year + 1, 3, 15)


def test_the_plan_holds_every_kind_of_event_and_a_dst_change() -> None:
    plan = make_plan(SEED, WEEKS, START, every_kind=True)
    assert make_plan(SEED, WEEKS, START, every_kind=True) == plan  # a seed is a year
    for kind in KINDS:
        assert any(_has(week, kind) for week in plan), kind
    offsets = {week.start.utcoffset() for week in plan}
    assert len(offsets) == 2, offsets


def _has(week: object, kind: str) -> bool:
    fields = {
        "posts": "posts",
        "web": "signups",
        "returns": "bounces",
    }
    return bool(getattr(week, fields.get(kind, kind)))


def test_five_weeks_keep_every_invariant_every_week(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    plan = make_plan(SEED, WEEKS, START, every_kind=True)
    with running_world(database_url) as world:
        rows = list(Year(world, plan, SEED, tmp_path).weeks())
    for row in rows:
        assert row.problems == [], (row.week, row.problems)
    assert sum(row.kills for row in rows) >= 1
    assert sum(row.bounced for row in rows) >= 1
    assert sum(row.complaints for row in rows) >= 1
    assert sum(row.delivered for row in rows) > 0
