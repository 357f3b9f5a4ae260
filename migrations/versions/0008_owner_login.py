"""The owner's area logs in by mail: one row per one-time link and the session it opened.

Revision ID: 0008_owner_login
Revises: 0007_report_verdicts
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_owner_login"
down_revision = "0007_report_verdicts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "owner_logins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owner_logins")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_owner_logins_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("owner_logins")
