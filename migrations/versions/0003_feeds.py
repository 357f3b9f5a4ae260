"""Feeds: polled feeds with their validators, feed identity of posts, owner alerts.

Revision ID: 0003_feeds
Revises: 0002_relay
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_feeds"
down_revision = "0002_relay"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feeds")),
        sa.UniqueConstraint("url", name=op.f("uq_feeds_url")),
    )
    op.create_table(
        "owner_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=2100), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owner_alerts")),
        sa.UniqueConstraint("cause", "period", name=op.f("uq_owner_alerts_cause_period")),
    )
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feed_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("guid", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("link", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_posts_feed_id"), ["feed_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_posts_guid"), ["guid"], unique=False)
        batch_op.create_index(batch_op.f("ix_posts_link"), ["link"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_posts_feed_id_feeds"), "feeds", ["feed_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_posts_feed_id_feeds"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_posts_link"))
        batch_op.drop_index(batch_op.f("ix_posts_guid"))
        batch_op.drop_index(batch_op.f("ix_posts_feed_id"))
        batch_op.drop_column("link")
        batch_op.drop_column("guid")
        batch_op.drop_column("feed_id")
    op.drop_table("owner_alerts")
    op.drop_table("feeds")
