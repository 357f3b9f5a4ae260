"""Sending through real relays: soft bounces per delivery, the budget shared by senders.

Revision ID: 0002_relay
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_relay"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(
            sa.Column("soft_bounce", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    pace = op.create_table(
        "send_pace",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("next_slot", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_send_pace")),
    )
    op.bulk_insert(pace, [{"id": 1, "next_slot": 0.0}])
    op.create_table(
        "send_counts",
        sa.Column("minute", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("minute", name=op.f("pk_send_counts")),
    )


def downgrade() -> None:
    op.drop_table("send_counts")
    op.drop_table("send_pace")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("soft_bounce")
