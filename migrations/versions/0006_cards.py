"""Cards: the other new posts an edition shows below its own post in a busy week.

Revision ID: 0006_cards
Revises: 0005_pending_alerts
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_cards"
down_revision = "0005_pending_alerts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "edition_cards",
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"], ["editions.id"], name=op.f("fk_edition_cards_edition_id_editions")
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_edition_cards_post_id_posts")
        ),
        sa.PrimaryKeyConstraint("edition_id", "post_id", name=op.f("pk_edition_cards")),
    )
    op.create_index(op.f("ix_edition_cards_post_id"), "edition_cards", ["post_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_edition_cards_post_id"), table_name="edition_cards")
    op.drop_table("edition_cards")
