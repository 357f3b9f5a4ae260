"""Bounce reports hold one verdict per recipient: its cause and the server's words apart.

A report's rows are unique by (fingerprint, part) instead of by fingerprint, so a DSN that
names several recipients keeps one row for each. ``reason`` becomes the cause as a
category (``userunknown``, ``mailboxfull``, ``blocked``...); the text it held moves to
``diagnostic``. ``status`` and ``reply_code`` are the codes that decided, ``domain`` the
receiving domain (never the address). ``result`` may also be ``sender``, ``unsubscribe``
and ``suspect``.

Rows written before keep what they did (their ``result``): their category is read from
the codes in their text where it names one, else a fair guess by result (``undetermined``
for a soft bounce, ``userunknown`` for a hard one, the feedback type of a complaint);
their domain is their reader's.

Revision ID: 0007_report_verdicts
Revises: 0006_cards
Create Date: 2026-12-03
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0007_report_verdicts"
down_revision = "0006_cards"
branch_labels = None
depends_on = None

_RESULTS = "'hard', 'soft', 'sender', 'complaint', 'unsubscribe', 'suspect', 'ignored'"
_OLD_RESULTS = "'hard', 'soft', 'complaint', 'ignored'"
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_REPLY = re.compile(r"^\s*([245]\d\d)\b")
_COMPLAINT = re.compile(r"complaint \((abuse|fraud|virus|other)\)")
# The categories the codes of earlier texts name; the rest fall back to the result's.
_BY_STATUS = {
    "5.1.2": "hostunknown",
    "5.1.10": "hostunknown",
    "5.4.4": "hostunknown",
    "5.1.6": "hasmoved",
    "5.2.2": "mailboxfull",
    "4.2.2": "mailboxfull",
    "5.2.3": "toobig",
    "5.3.4": "toobig",
    "4.4.7": "expired",
    "5.4.7": "expired",
    "5.2.1": "suspended",
}


def upgrade() -> None:
    with op.batch_alter_table("bounce_reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("part", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("diagnostic", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("reply_code", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("domain", sa.String(length=255), nullable=True))
    _categorise()
    with op.batch_alter_table("bounce_reports", schema=None) as batch_op:
        batch_op.alter_column("part", existing_type=sa.Integer(), server_default=None)
        batch_op.alter_column("diagnostic", existing_type=sa.Text(), server_default=None)
        batch_op.alter_column("reason", existing_type=sa.Text(), type_=sa.String(length=32))
        batch_op.drop_constraint(batch_op.f("uq_bounce_reports_fingerprint"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_bounce_reports_fingerprint_part"), ["fingerprint", "part"]
        )
        batch_op.drop_index(batch_op.f("ix_bounce_reports_edition_id"))
        batch_op.create_index(
            "ix_bounce_reports_edition_domain", ["edition_id", "domain"], unique=False
        )
        batch_op.drop_constraint(batch_op.f("ck_bounce_reports_result_allowed"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_bounce_reports_result_allowed"), f"result IN ({_RESULTS})"
        )


def _categorise() -> None:
    """Each earlier row: its text to ``diagnostic``, a category, the codes, the domain."""
    reports = sa.table(
        "bounce_reports",
        sa.column("id", sa.Integer()),
        sa.column("result", sa.String()),
        sa.column("reason", sa.Text()),
        sa.column("diagnostic", sa.Text()),
        sa.column("status", sa.String()),
        sa.column("reply_code", sa.Integer()),
        sa.column("domain", sa.String()),
        sa.column("subscriber_id", sa.Integer()),
    )
    subscribers = sa.table("subscribers", sa.column("id", sa.Integer()), sa.column("email"))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(reports.c.id, reports.c.result, reports.c.reason, subscribers.c.email).outerjoin(
            subscribers, subscribers.c.id == reports.c.subscriber_id
        )
    ).all()
    for report_id, result, text, email in rows:
        # The most specific code decides: "5.0.0 ... 5.2.2 mailbox full" is 5.2.2.
        codes = [".".join(found) for found in _STATUS.findall(text)]
        status = next((c for c in codes if not c.endswith(".0.0")), codes[0] if codes else None)
        reply = _REPLY.match(text)
        connection.execute(
            reports.update()
            .where(reports.c.id == report_id)
            .values(
                diagnostic=text,
                reason=_category(result, status, text),
                status=status,
                reply_code=int(reply[1]) if reply else None,
                domain=email.rpartition("@")[2] if email else None,
            )
        )


def _category(result: str, status: str | None, text: str) -> str:
    if result == "complaint":
        found = _COMPLAINT.search(text)
        kind = found[1] if found else "abuse"
        return "virusreport" if kind == "virus" else kind
    if result == "ignored":
        if text.startswith("delivery report"):
            return "delivered"
        return "autoreply" if text.startswith("automatic reply") else "notabounce"
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if "delay" in text.lower():
        return "delayed"
    return "userunknown" if result == "hard" else "undetermined"


def downgrade() -> None:
    """Back to one row per message: the first verdict of each stays, its text as reason;
    verdicts the earlier version did not know become what it would have made of them."""
    with op.batch_alter_table("bounce_reports", schema=None) as batch_op:
        batch_op.alter_column("reason", existing_type=sa.String(length=32), type_=sa.Text())
    op.execute("DELETE FROM bounce_reports WHERE part > 0")
    op.execute("UPDATE bounce_reports SET result = 'hard' WHERE result = 'suspect'")
    op.execute("UPDATE bounce_reports SET result = 'soft' WHERE result = 'sender'")
    op.execute("UPDATE bounce_reports SET result = 'ignored' WHERE result = 'unsubscribe'")
    op.execute("UPDATE bounce_reports SET reason = diagnostic")
    with op.batch_alter_table("bounce_reports", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_bounce_reports_result_allowed"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_bounce_reports_result_allowed"), f"result IN ({_OLD_RESULTS})"
        )
        batch_op.drop_index("ix_bounce_reports_edition_domain")
        batch_op.create_index(
            batch_op.f("ix_bounce_reports_edition_id"), ["edition_id"], unique=False
        )
        batch_op.drop_constraint(batch_op.f("uq_bounce_reports_fingerprint_part"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_bounce_reports_fingerprint"), ["fingerprint"]
        )
        batch_op.drop_column("domain")
        batch_op.drop_column("reply_code")
        batch_op.drop_column("status")
        batch_op.drop_column("diagnostic")
        batch_op.drop_column("part")
