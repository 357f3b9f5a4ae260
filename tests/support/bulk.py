"""A large list and a year of history, made by a few INSERT … SELECT statements.

The benchmark of a million readers (``bench/large_list.py``) and the test of the query
plans both need many rows quickly: rows made one by one in Python would take minutes at
a million. Every table is filled from a series of numbers in the database itself
(``generate_series`` on PostgreSQL, a recursive CTE on SQLite), so reader ``x`` and the
rows about them are plain arithmetic on ``x``.

The shape: reader ``x`` is at one of a few big mailbox providers or at one of many small
domains; one in ten has left (unsubscribed, bounced, complained or never confirmed). One
edition a week for ``weeks`` weeks; the newest is being sent to every reader, or to the
first ``newest_rows`` (most sent, some queued, deferred, claimed or failed), each older
one went to the first ``history_rows`` readers. Reader ``x`` has id ``x``: the database
must be empty. On PostgreSQL the tables are ANALYZEd afterwards, as autovacuum would.
Every edition has its bounce reports, the send's refusals and the week's joins
and unsubscribes in the event log, and an owner alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, insert, select, text

from newsletter.db.database import Database
from newsletter.db.models import Edition, EditionStatus, OwnerAlert, UTCDateTime, utcnow
from newsletter.db.models import Post as PostRow

from .posts import add_post

PROVIDERS = ("gmail.com", "hotmail.com", "outlook.com", "ziggo.nl", "kpnmail.nl", "icloud.com")
SMALL_DOMAINS = 5000
# Reader x's status by x % 100: the first 90 are active.
_STATUS = (
    "CASE WHEN x % 100 < 90 THEN 'active' WHEN x % 100 < 95 THEN 'unsubscribed' "
    "WHEN x % 100 < 98 THEN 'bounced' WHEN x % 100 < 99 THEN 'complained' ELSE 'pending' END"
)
# A delivery of the edition being sent, by x % 100: mostly sent, some still open.
_SENDING = (
    "CASE WHEN x % 100 < 84 THEN 'sent' WHEN x % 100 < 92 THEN 'queued' "
    "WHEN x % 100 < 95 THEN 'deferred' WHEN x % 100 < 97 THEN 'sending' "
    "WHEN x % 100 < 99 THEN 'failed' ELSE 'skipped' END"
)
_REFUSAL = (
    '\'{"type": "hard", "reply": "550 5.1.1 user unknown", '
    '"reason": "the address does not exist"}\''
)
_SENT = "CASE WHEN x % 100 < 98 THEN 'sent' WHEN x % 100 < 99 THEN 'failed' ELSE 'skipped' END"


@dataclass(frozen=True)
class LargeList:
    readers: int
    weeks: int = 52
    history_rows: int = 20_000
    # Bounce reports, send refusals, joins and unsubscribes: one in this many readers.
    returns_every: int = 200
    # The edition being sent goes to this many readers (None: to every reader).
    newest_rows: int | None = None


def _domain() -> str:
    """Reader x's domain: one of the big providers for six in ten, else a small one."""
    providers = " ".join(f"WHEN {i} THEN '{domain}'" for i, domain in enumerate(PROVIDERS))
    return f"CASE x % 10 {providers} ELSE 'domein' || (x % {SMALL_DOMAINS}) || '.nl' END"


def _series(connection: Connection, count: int) -> str:
    """The WITH clause of the numbers 1..count, as ``g(x)``."""
    if connection.dialect.name == "postgresql":
        return f"WITH g(x) AS (SELECT generate_series(1, {int(count)})) "
    return (
        f"WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < {int(count)}) "
    )


def _run(connection: Connection, count: int, sql: str, **values: object) -> None:
    """``sql`` over the numbers 1..count; datetimes among ``values`` bound as the models do."""
    moments = [
        bindparam(name, type_=UTCDateTime())
        for name, value in values.items()
        if isinstance(value, datetime)
    ]
    connection.execute(text(_series(connection, count) + sql).bindparams(*moments), values)


def seed_large_list(database: Database, shape: LargeList, now: datetime | None = None) -> int:
    """The list and its history; the newest edition's id."""
    now = now or utcnow()
    start = now - timedelta(weeks=shape.weeks)
    add_post(database)
    with database.engine.begin() as connection:
        _readers(connection, shape, start)
        _posts(connection, shape.weeks)
        post_ids = list(connection.scalars(select(PostRow.id).order_by(PostRow.id)))
        newest = 0
        for week in range(shape.weeks):
            moment = start + timedelta(weeks=week + 1)
            last = week == shape.weeks - 1
            newest = _edition(connection, shape, post_ids[week], moment, last=last)
            _week_events(connection, shape, newest, moment)
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
    return newest


def _readers(connection: Connection, shape: LargeList, start: datetime) -> None:
    _run(
        connection,
        shape.readers,
        "INSERT INTO subscribers (email, name, status, created_at, confirmed_at, "
        "consent_source) "
        f"SELECT 'lezer' || x || '@' || {_domain()}, 'Lezer ' || x, {_STATUS}, :at, :at, 'import' FROM g",
        at=start,
    )


def _posts(connection: Connection, weeks: int) -> None:
    """Copies of the one imported post, enough for an edition a week and a queue."""
    _run(
        connection,
        weeks + 8,
        "INSERT INTO posts (slug, title, source, content_hash, document, published_at, "
        "position, skipped, imported_at, updated_at) "
        "SELECT slug || '-' || x, title, source, content_hash, document, published_at, "
        "x, skipped, imported_at, updated_at FROM posts, g",
    )


def _edition(
    connection: Connection, shape: LargeList, post_id: int, moment: datetime, *, last: bool
) -> int:
    newest = shape.readers if shape.newest_rows is None else shape.newest_rows
    readers = min(newest if last else shape.history_rows, shape.readers)
    year, week, _ = moment.isocalendar()
    edition_id = connection.scalar(
        insert(Edition)
        .values(
            post_id=post_id,
            status=EditionStatus.SENDING if last else EditionStatus.SENT,
            week_key=f"{year}-W{week:02d}",
            subject=f"Editie van week {week}",
            recipients=readers,
            created_at=moment,
            started_at=moment,
            finished_at=None if last else moment + timedelta(hours=2),
        )
        .returning(Edition.id)
    )
    assert edition_id is not None
    status = _SENDING if last else _SENT
    _run(
        connection,
        readers,
        "INSERT INTO deliveries (edition_id, subscriber_id, status, attempts, "
        "next_attempt_at, claimed_at, claimed_by, last_reply, soft_bounce, message_id, sent_at, "
        "domain) SELECT :edition, x, s, 1, CASE WHEN s = 'deferred' THEN :later END, "
        "CASE WHEN s = 'sending' THEN :at END, CASE WHEN s = 'sending' THEN 'bench:1' END, "
        "CASE WHEN s = 'failed' THEN '550 5.1.1 user unknown' END, "
        "x % 300 = 7, '<' || :edition || '.' || x || '@bench>', "
        "CASE WHEN s = 'sent' THEN :at END, domain "
        f"FROM (SELECT x, {status} AS s, {_domain()} AS domain FROM g) AS planned",
        at=moment,
        later=moment + timedelta(minutes=30),
        edition=edition_id,
    )
    _reports(connection, shape, edition_id, readers, moment)
    connection.execute(
        insert(OwnerAlert).values(
            cause=f"returns-{edition_id}",
            period=f"{year}-W{week:02d}",
            subject="Veel teruggekomen post",
            status="sent",
            edition_id=edition_id,
            details={"paragraphs": []},
            recorded_at=moment,
            sent_at=moment,
        )
    )
    return int(edition_id)


def _reports(
    connection: Connection, shape: LargeList, edition_id: int, readers: int, moment: datetime
) -> None:
    """Bounce reports of one in ``returns_every`` readers, and the send's refusals."""
    every = shape.returns_every
    _run(
        connection,
        readers // every,
        "INSERT INTO bounce_reports (received_at, fingerprint, part, source, result, reason, "
        "diagnostic, domain, subscriber_id, edition_id) "
        "SELECT :at, :edition || '-' || x, 0, 'mailbox', "
        "CASE x % 10 WHEN 0 THEN 'complaint' WHEN 1 THEN 'soft' ELSE 'hard' END, "
        "'userunknown', '550 5.1.1 user unknown', 'gmail.com', x * :every, :edition FROM g",
        at=moment + timedelta(days=2),
        edition=edition_id,
        every=every,
    )
    _run(
        connection,
        readers // every,
        "INSERT INTO events (occurred_at, kind, actor, subscriber_id, edition_id, detail) "
        "SELECT :at, 'bounce', 'sender', x * :every - 1, :edition, "
        f"{_REFUSAL} FROM g",
        at=moment + timedelta(hours=1),
        edition=edition_id,
        every=every,
    )


def _week_events(
    connection: Connection, shape: LargeList, edition_id: int, moment: datetime
) -> None:
    """The week's joins and unsubscribes: one in ``returns_every`` readers each."""
    for kind, actor, offset in (("confirm", "web", 2), ("unsubscribe", "web", 3)):
        _run(
            connection,
            shape.readers // shape.returns_every,
            "INSERT INTO events (occurred_at, kind, actor, subscriber_id, edition_id, detail) "
            f"SELECT :at, '{kind}', '{actor}', x * :every - {offset}, NULL, NULL FROM g",
            at=moment + timedelta(days=1),
            every=shape.returns_every,
        )
