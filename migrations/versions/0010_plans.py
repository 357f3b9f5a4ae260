"""Indexes for a large list: every query on the send and due-work paths, and what the
owner reads, find their rows by an index at a million readers.

- ``deliveries.domain``: the receiving domain of the reader's address when the edition
  was made. The suspect rule counts an edition's mail to one domain during the send, and
  the edition's figures count per domain: both read it from an index instead of joining
  every delivery of the edition to its reader and matching the address's end. Filled for
  the deliveries already there from their readers' addresses (erased ones have none).
- ``ix_deliveries_edition_domain`` (edition, domain, status): those counts, from the index.
- ``ix_deliveries_deferred`` of the deferred rows only: the backlog ``status`` reports,
  across editions, without reading the finished rows. (SQLite uses a partial index for
  ``status = ?`` only when its condition is that very comparison, not an ``IN`` list, and
  prefers it when it holds the column asked about: hence ``status`` in it.)
- ``ix_deliveries_soft_bounce`` (edition) of the soft-bounced rows only.
- ``ix_events_edition_id_kind``: an edition's refusals in the event log (the suspect rule
  and the edition's figures), instead of every ``bounce`` event ever written.
- ``ix_events_kind_occurred_at``: the week's joins and leavers (the overview's curve) and
  the unsubscribes after an edition.
- ``ix_subscribers_receiving`` (status, pause, sign-up) of readers with an address: the
  counts ``status`` and the overview show, from the index alone.

Revision ID: 0010_plans
Revises: 0009_reader_controls
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_plans"
down_revision = "0009_reader_controls"
branch_labels = None
depends_on = None

DEFERRED = "status = 'deferred'"
READERS_WITH_ADDRESS = "email IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("domain", sa.String(length=255), nullable=True))
    _fill_domains()
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deliveries_edition_domain", ["edition_id", "domain", "status"], unique=False
        )
        batch_op.create_index(
            "ix_deliveries_deferred",
            ["status", "next_attempt_at"],
            unique=False,
            postgresql_where=sa.text(DEFERRED),
            sqlite_where=sa.text(DEFERRED),
        )
        batch_op.create_index(
            "ix_deliveries_soft_bounce",
            ["edition_id"],
            unique=False,
            postgresql_where=sa.text("soft_bounce IS true"),
            sqlite_where=sa.text("soft_bounce IS 1"),
        )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_kind")
        batch_op.create_index("ix_events_edition_id_kind", ["edition_id", "kind"], unique=False)
        batch_op.create_index("ix_events_kind_occurred_at", ["kind", "occurred_at"], unique=False)
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_subscribers_receiving",
            ["status", "paused_until", "signed_up_at"],
            unique=False,
            postgresql_where=sa.text(READERS_WITH_ADDRESS),
            sqlite_where=sa.text(READERS_WITH_ADDRESS),
        )


def _fill_domains() -> None:
    """Every delivery's domain from its reader's address, after the last ``@`` (as
    ``delivery.domain_hold.domain_of`` cuts it; addresses are stored lower-cased)."""
    if op.get_bind().dialect.name == "postgresql":
        domain = "substring(s.email from '[^@]*$')"
    else:
        domain = "substr(s.email, length(rtrim(s.email, replace(s.email, '@', ''))) + 1)"
    op.execute(
        f"UPDATE deliveries SET domain = (SELECT {domain} FROM subscribers AS s "
        "WHERE s.id = deliveries.subscriber_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.drop_index("ix_subscribers_receiving")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_kind_occurred_at")
        batch_op.drop_index("ix_events_edition_id_kind")
        batch_op.create_index("ix_events_kind", ["kind"], unique=False)
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_soft_bounce")
        batch_op.drop_index("ix_deliveries_deferred")
        batch_op.drop_index("ix_deliveries_edition_domain")
        batch_op.drop_column("domain")
