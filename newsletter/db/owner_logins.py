"""The owner's logins: a one-time link mailed to the owner, then the session it opened.

The link carries a random token; only its SHA-256 is stored, so reading the database
gives nobody a working link. Using a link is one conditional UPDATE (unused, not expired),
so two clicks at the same moment open one session, not two. The session is the row: the
signed cookie names it, and it lasts while the row is neither ended (logging out) nor
older than :data:`SESSION_LENGTH`.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from newsletter.db.models import OwnerLogin

LINK_LIFETIME = timedelta(minutes=15)
SESSION_LENGTH = timedelta(days=7)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue(session: Session, now: datetime) -> str:
    """A new one-time login token (for the mailed link), good for :data:`LINK_LIFETIME`.

    Rows of links nobody used and sessions long over are dropped on the way: the table
    holds a handful of rows, never a history."""
    session.execute(
        delete(OwnerLogin).where(
            OwnerLogin.created_at < now - SESSION_LENGTH - LINK_LIFETIME,
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(OwnerLogin(token_hash=_hash(token), created_at=now, expires_at=now + LINK_LIFETIME))
    session.flush()
    return token


def use(session: Session, token: str, now: datetime) -> int | None:
    """Spend a login token: the id of the session it opens, or None when the token is
    unknown, already used or expired (the caller cannot tell which, nor can anyone else)."""
    statement = (
        update(OwnerLogin)
        .where(
            OwnerLogin.token_hash == _hash(token),
            OwnerLogin.used_at.is_(None),
            OwnerLogin.expires_at > now,
        )
        .values(used_at=now)
        .returning(OwnerLogin.id)
    )
    return session.scalars(statement).first()


def is_open(session: Session, login_id: int, now: datetime) -> bool:
    """Whether the session ``login_id`` still holds: used, not ended, not too old."""
    found = session.scalar(
        select(OwnerLogin.id).where(
            OwnerLogin.id == login_id,
            OwnerLogin.used_at.is_not(None),
            OwnerLogin.used_at > now - SESSION_LENGTH,
            OwnerLogin.ended_at.is_(None),
        )
    )
    return found is not None


def end(session: Session, login_id: int, now: datetime) -> None:
    """Log out: the session's cookie opens nothing any more, wherever it was copied to."""
    session.execute(
        update(OwnerLogin)
        .where(OwnerLogin.id == login_id, OwnerLogin.ended_at.is_(None))
        .values(ended_at=now)
    )
