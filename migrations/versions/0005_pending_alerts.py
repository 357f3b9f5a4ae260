"""Owner alerts are recorded first and mailed by one mailer: status, details, edition.

Rows of earlier versions were written when their mail went out: they become ``sent``.
The returns alerts that earlier versions kept as ``returns_alert`` events become rows too
(``sent``: their mail went out or was given up), so the hold rule, which now reads the
rows, still holds the edition after an alert that came before the upgrade.

Revision ID: 0005_pending_alerts
Revises: 0004_bounces
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_pending_alerts"
down_revision = "0004_bounces"
branch_labels = None
depends_on = None

_STATUS = "status IN ('pending', 'claimed', 'sent', 'logged')"


def upgrade() -> None:
    with op.batch_alter_table("owner_alerts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="sent")
        )
        batch_op.add_column(sa.Column("edition_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("tried_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column("sent_at", existing_type=sa.DateTime(timezone=True), nullable=True)
    op.execute("UPDATE owner_alerts SET recorded_at = sent_at, tried_at = sent_at")
    _returns_events_to_rows()
    with op.batch_alter_table("owner_alerts", schema=None) as batch_op:
        batch_op.alter_column("status", existing_type=sa.String(length=16), server_default=None)
        batch_op.alter_column("details", existing_type=sa.JSON(), server_default=None)
        batch_op.alter_column(
            "recorded_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.create_check_constraint(batch_op.f("ck_owner_alerts_status_allowed"), _STATUS)
        batch_op.create_index(batch_op.f("ix_owner_alerts_status"), ["status"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_owner_alerts_edition_id_editions"), "editions", ["edition_id"], ["id"]
        )


def _returns_events_to_rows() -> None:
    """One ``sent`` row per ``returns_alert`` event, as the returns check records them."""
    events = sa.table(
        "events",
        sa.column("occurred_at", sa.DateTime(timezone=True)),
        sa.column("kind", sa.String()),
        sa.column("edition_id", sa.Integer()),
        sa.column("detail", sa.JSON()),
    )
    alerts = sa.table(
        "owner_alerts",
        sa.column("cause", sa.String()),
        sa.column("period", sa.String()),
        sa.column("subject", sa.String()),
        sa.column("status", sa.String()),
        sa.column("edition_id", sa.Integer()),
        sa.column("details", sa.JSON()),
        sa.column("recorded_at", sa.DateTime(timezone=True)),
        sa.column("tried_at", sa.DateTime(timezone=True)),
        sa.column("sent_at", sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    found = connection.execute(
        sa.select(events.c.occurred_at, events.c.edition_id, events.c.detail)
        .where(events.c.kind == "returns_alert")
        .order_by(events.c.occurred_at)
    ).all()
    rows = [
        {
            "cause": f"returns:{edition_id}",
            "period": "once",
            "subject": f"Nieuwsbrief: te veel bounces of klachten bij editie {edition_id}",
            "status": "sent",
            "edition_id": edition_id,
            "details": {"paragraphs": [], "report": None, "returns": detail or {}},
            "recorded_at": occurred_at,
            "tried_at": occurred_at,
            "sent_at": occurred_at,
        }
        for occurred_at, edition_id, detail in found
    ]
    if rows:
        op.bulk_insert(alerts, rows)


def downgrade() -> None:
    op.execute("DELETE FROM owner_alerts WHERE status <> 'sent'")
    with op.batch_alter_table("owner_alerts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_owner_alerts_edition_id_editions"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_owner_alerts_status"))
        batch_op.drop_constraint(batch_op.f("ck_owner_alerts_status_allowed"), type_="check")
        batch_op.alter_column("sent_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.drop_column("tried_at")
        batch_op.drop_column("recorded_at")
        batch_op.drop_column("details")
        batch_op.drop_column("edition_id")
        batch_op.drop_column("status")
