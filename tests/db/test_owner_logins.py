"""Login rows: only a hash stored, spent once, and a session that ends."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from newsletter.db import owner_logins
from newsletter.db.database import Database
from newsletter.db.models import OwnerLogin, utcnow


def test_only_a_hash_of_the_token_is_stored(database: Database) -> None:
    with database.session() as session:
        token = owner_logins.issue(session, utcnow())
        stored = session.scalars(select(OwnerLogin.token_hash)).all()
    assert len(token) >= 43
    assert stored and token not in stored[0]


def test_a_token_opens_one_session_once_and_not_after_fifteen_minutes(database: Database) -> None:
    now = utcnow()
    with database.session() as session:
        first, late = owner_logins.issue(session, now), owner_logins.issue(session, now)
    with database.session() as session:
        login_id = owner_logins.use(session, first, now + timedelta(minutes=14))
        assert login_id is not None
        assert owner_logins.use(session, first, now + timedelta(minutes=14)) is None
        assert owner_logins.use(session, late, now + timedelta(minutes=15)) is None
        assert owner_logins.use(session, "not-a-token", now) is None
        assert owner_logins.is_open(session, login_id, now + timedelta(days=6))
        assert not owner_logins.is_open(session, login_id, now + timedelta(days=7, minutes=15))


def test_two_clicks_at_once_open_one_session(database: Database) -> None:
    now = utcnow()
    with database.session() as session:
        token = owner_logins.issue(session, now)
    opened: list[int | None] = []

    def click() -> None:
        with database.session() as session:
            opened.append(owner_logins.use(session, token, now))

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(opened) == 4
    assert opened.count(None) == 3


def test_an_ended_session_stays_ended(database: Database) -> None:
    now = utcnow()
    with database.session() as session:
        login_id = owner_logins.use(session, owner_logins.issue(session, now), now)
        assert login_id is not None
        owner_logins.end(session, login_id, now)
        assert not owner_logins.is_open(session, login_id, now)


def test_old_rows_are_dropped_when_a_new_link_is_made(database: Database) -> None:
    long_ago = utcnow() - timedelta(days=30)
    with database.session() as session:
        owner_logins.issue(session, long_ago)
        owner_logins.issue(session, utcnow())
        assert len(session.scalars(select(OwnerLogin)).all()) == 1
