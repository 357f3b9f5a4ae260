"""Bounce reports: bounces and complaints that came back after the relay accepted a message.

Revision ID: 0004_bounces
Revises: 0002_relay
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_bounces"
down_revision = "0003_feeds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bounce_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("edition_id", sa.Integer(), nullable=True),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "result IN ('hard', 'soft', 'complaint', 'ignored')",
            name=op.f("ck_bounce_reports_result_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_bounce_reports_delivery_id_deliveries"),
        ),
        sa.ForeignKeyConstraint(
            ["edition_id"], ["editions.id"], name=op.f("fk_bounce_reports_edition_id_editions")
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_bounce_reports_subscriber_id_subscribers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounce_reports")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_bounce_reports_fingerprint")),
    )
    with op.batch_alter_table("bounce_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bounce_reports_edition_id"), ["edition_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_bounce_reports_received_at"), ["received_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_bounce_reports_subscriber_id"), ["subscriber_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("bounce_reports")
