"""The plan of a simulated year, made from a seed alone: the same seed, the same year.

Each week says when the blog publishes, what the relay does wrong at the slot, whether the
daemon is killed mid-send or the database restarted, what readers do on the web pages and
how many of the week's mails come back, and how many days later. ``every_kind`` makes sure
a short stretch still holds every kind of event at least once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tests.support.settings import AMSTERDAM

# The kinds of events a stretch must hold at least once (besides a DST change, which is a
# matter of the dates it covers).
KINDS = ("posts", "greylist", "slow_down", "drops", "outage", "kill", "restart", "web", "returns")


@dataclass(frozen=True)
class WeekPlan:
    index: int
    start: datetime  # Monday 00:00 in Amsterdam
    posts: tuple[datetime, ...] = ()
    greylist: int = 0  # readers whose first RCPT at the slot is greylisted
    slow_down: bool = False  # a stretch of 421s at MAIL: the relay's rate limit
    drops: bool = False  # the relay hangs up in the middle of every 7th message text
    outage: bool = False  # the relay is down from the slot for ``OUTAGE_HOURS``
    kill: bool = False  # the slot's send runs in a daemon process that is SIGKILLed
    restart: bool = False  # every database connection is cut just before the slot
    signups: int = 0
    pauses: int = 0
    unsubscribes: int = 0
    bounces: int = 0  # hard bounces of this week's edition, reported days later
    complaints: int = 0
    return_days: tuple[float, ...] = field(default=())  # one delay per bounce/complaint

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=7)


def first_monday(year: int, month: int, day: int) -> datetime:
    """The Monday at or after the date, at midnight in Amsterdam."""
    moment = datetime(year, month, day, tzinfo=AMSTERDAM)
    return moment + timedelta(days=(7 - moment.weekday()) % 7)


def make_plan(
    seed: int, weeks: int, start: datetime, *, every_kind: bool = False
) -> list[WeekPlan]:
    """``weeks`` weeks from ``start`` (a Monday): random, but the database restarts once
    and the relay is down for one slot, and with ``every_kind`` each of :data:`KINDS` happens in at least one week (none of
    them in the first, which sends the list its first edition)."""
    rng = random.Random(seed)
    once = {kind: rng.randrange(1, weeks) if weeks > 1 else 0 for kind in ("restart", "outage")}
    forced = dict(once)
    if every_kind:
        forced |= {kind: rng.randrange(1, weeks) for kind in KINDS if kind not in once}
        forced["posts"] = 0
    return [_week(rng, n, _monday(start, n), forced) for n in range(weeks)]


def _monday(start: datetime, n: int) -> datetime:
    """Midnight of the Monday ``n`` weeks on, in local time across DST changes."""
    day = start.date() + timedelta(weeks=n)
    return datetime(day.year, day.month, day.day, tzinfo=AMSTERDAM)


def _week(rng: random.Random, index: int, start: datetime, forced: dict[str, int]) -> WeekPlan:
    def chance(kind: str, probability: float) -> bool:
        return forced.get(kind) == index or rng.random() < probability

    count = rng.choice((0, 1, 1, 1, 2, 3))
    if index == 0 or forced.get("posts") == index:
        count = max(count, 1)
    posts = tuple(
        sorted(start + timedelta(minutes=rng.randrange(7 * 24 * 60)) for _ in range(count))
    )
    web = chance("web", 0.6)
    returns = chance("returns", 0.5)
    bounces = rng.randint(1, 2) if returns else 0
    complaints = int(returns and rng.random() < 0.5) or int(forced.get("returns") == index)
    return WeekPlan(
        index,
        start,
        posts,
        greylist=rng.randint(1, 3) if chance("greylist", 0.3) else 0,
        slow_down=chance("slow_down", 0.2),
        drops=chance("drops", 0.2),
        outage=forced.get("outage") == index,
        kill=chance("kill", 0.15) and forced.get("outage") != index,
        restart=forced["restart"] == index,
        signups=rng.randint(1, 2) if web else 0,
        pauses=int(web and rng.random() < 0.5) or int(forced.get("web") == index),
        unsubscribes=int(web and rng.random() < 0.7) or int(forced.get("web") == index),
        bounces=bounces,
        complaints=complaints,
        return_days=tuple(rng.uniform(1, 5) for _ in range(bounces + complaints)),
    )
