"""The schema as the first slice shipped it (before migrations existed).

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_OPEN_SQL = "status IN ('authenticating', 'registered', 'registering')"


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "payment_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("reference_transaction_id", sa.String(256), nullable=False),
        sa.Column("ecwid_order_id", sa.String(256), nullable=False),
        sa.Column("ecwid_internal_id", sa.Integer(), nullable=True),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("return_url", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("token_encrypted", sa.Text(), nullable=False),
        sa.Column("ecwid_status", sa.String(32), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("updated_at", tz, nullable=False),
        sa.UniqueConstraint("store_id", "reference_transaction_id", name="uq_session_ecwid_order"),
    )
    op.create_table(
        "payment_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("payment_sessions.id"), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(32), nullable=False, unique=True),
        sa.Column("provider_order_id", sa.String(64), nullable=True, unique=True),
        sa.Column("form_url", sa.Text(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("page_view", sa.String(8), nullable=False),
        sa.Column("action_code", sa.String(16), nullable=True),
        sa.Column("masked_pan", sa.String(32), nullable=True),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("updated_at", tz, nullable=False),
        sa.Column("expires_at", tz, nullable=False),
        sa.UniqueConstraint("session_id", "attempt_no", name="uq_attempt_no"),
    )
    op.create_index(
        "uq_one_open_attempt",
        "payment_attempts",
        ["session_id"],
        unique=True,
        sqlite_where=sa.text(_OPEN_SQL),
        postgresql_where=sa.text(_OPEN_SQL),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("payment_sessions.id"), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("next_try_at", tz, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("sent_at", tz, nullable=True),
    )
    op.create_index("ix_outbox_session_id", "outbox", ["session_id"])
    op.create_index("ix_outbox_state", "outbox", ["state"])
    op.create_table(
        "operator_exceptions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("payment_sessions.id"), nullable=True),
        sa.Column("attempt_id", sa.Integer(), sa.ForeignKey("payment_attempts.id"), nullable=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("resolved_at", tz, nullable=True),
    )
    op.create_table(
        "payment_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("payment_sessions.id"), nullable=False),
        sa.Column("attempt_id", sa.Integer(), sa.ForeignKey("payment_attempts.id"), nullable=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", tz, nullable=False),
    )
    op.create_index("ix_payment_events_session_id", "payment_events", ["session_id"])


def downgrade() -> None:
    op.drop_table("payment_events")
    op.drop_table("operator_exceptions")
    op.drop_table("outbox")
    op.drop_index("uq_one_open_attempt", table_name="payment_attempts")
    op.drop_table("payment_attempts")
    op.drop_table("payment_sessions")
