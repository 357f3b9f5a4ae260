"""What readers manage themselves, and the proof of their consent.

Readers can pause (``paused_until``) and move to a new address once they confirm it
(``new_email``, ``new_email_requested_at``). Every reader gets the columns of their
consent: how they came, when, and for a confirmed sign-up the request that confirmed it.

Readers from before this revision get what the event log knows: a ``signup`` event is a
sign-up through the form, a ``subscribe`` one the CLI, an ``import`` one an import; the
first two also give the moment. Nobody's IP address or form text was ever kept, so those
stay empty, and an imported reader stays without evidence (no ``signed_up_at``).

Only columns are added, so SQLite alters the table in place: a CHECK on
``consent_source`` would make Alembic rebuild ``subscribers``, which the foreign keys of
the events and deliveries that name its readers forbid. The code writes the values of
``models.ConsentSource`` only.

Revision ID: 0009_reader_controls
Revises: 0008_owner_login
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_reader_controls"
down_revision = "0008_owner_login"
branch_labels = None
depends_on = None

# (event kind, the actor that wrote it, the source it proves, whether its time is the sign-up)
_EVIDENCE = (
    ("signup", "web", "form", True),
    ("subscribe", "admin", "cli", True),
    ("import", "import", "import", False),
)


def upgrade() -> None:
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("new_email", sa.String(length=320), nullable=True))
        batch_op.add_column(
            sa.Column("new_email_requested_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("consent_source", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("consent_file", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("signed_up_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("consent_ip", sa.String(length=45), nullable=True))
        batch_op.add_column(sa.Column("consent_user_agent", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("consent_form_hash", sa.String(length=64), nullable=True))
    for kind, actor, source, timed in _EVIDENCE:
        _backfill(kind, actor, source, timed=timed)


def _backfill(kind: str, actor: str, source: str, *, timed: bool) -> None:
    """Readers not yet given a source whose log holds a ``kind`` event by ``actor``."""
    subscribers = sa.table(
        "subscribers",
        sa.column("id", sa.Integer()),
        sa.column("email", sa.String()),
        sa.column("consent_source", sa.String()),
        sa.column("signed_up_at", sa.DateTime(timezone=True)),
    )
    events = sa.table(
        "events",
        sa.column("occurred_at", sa.DateTime(timezone=True)),
        sa.column("kind", sa.String()),
        sa.column("actor", sa.String()),
        sa.column("subscriber_id", sa.Integer()),
    )
    theirs = sa.and_(
        events.c.subscriber_id == subscribers.c.id,
        events.c.kind == kind,
        events.c.actor == actor,
    )
    values: dict[str, object] = {"consent_source": source}
    if timed:
        values["signed_up_at"] = (
            sa.select(sa.func.min(events.c.occurred_at)).where(theirs).scalar_subquery()
        )
    op.execute(
        subscribers.update()
        .where(
            subscribers.c.consent_source.is_(None),
            subscribers.c.email.is_not(None),
            sa.exists().where(theirs),
        )
        .values(**values)
    )


def downgrade() -> None:
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.drop_column("consent_form_hash")
        batch_op.drop_column("consent_user_agent")
        batch_op.drop_column("consent_ip")
        batch_op.drop_column("signed_up_at")
        batch_op.drop_column("consent_file")
        batch_op.drop_column("consent_source")
        batch_op.drop_column("new_email_requested_at")
        batch_op.drop_column("new_email")
        batch_op.drop_column("paused_until")
