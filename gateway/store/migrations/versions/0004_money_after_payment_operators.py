"""Money after the payment and the people who look after it.

- ``payment_attempts.two_phase`` (registered with registerPreAuth.do) and ``deposited_minor`` (as the bank reports);
- ``refunds``: one row per refund of ours, with the ``externalRefundId`` that makes a retry refund once;
- ``operators`` (console accounts: hashed password, optional TOTP) and ``operator_actions`` (who did what);
- ``operator_exceptions.resolved_by`` and ``note``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
_IN_FLIGHT = "status IN ('requested', 'unknown')"


def upgrade() -> None:
    with op.batch_alter_table("payment_attempts") as batch:
        batch.add_column(sa.Column("deposited_minor", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("two_phase", sa.Boolean(), server_default=sa.text("false"), nullable=False))
        batch.add_column(sa.Column("reverse_requested_at", _TS, nullable=True))
        batch.add_column(sa.Column("deposit_requested_at", _TS, nullable=True))
    with op.batch_alter_table("operator_exceptions") as batch:
        batch.add_column(sa.Column("resolved_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("attempt_id", sa.Integer(), sa.ForeignKey("payment_attempts.id"), nullable=False),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("payment_sessions.id"), nullable=False),
        sa.Column("external_refund_id", sa.String(32), nullable=False, unique=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("expected_deposited_minor", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("bank_refund_id", sa.String(64), nullable=True),
        sa.Column("error_code", sa.String(16), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("completed_at", _TS, nullable=True),
    )
    op.create_index("ix_refunds_attempt_id", "refunds", ["attempt_id"])
    op.create_index("ix_refunds_session_id", "refunds", ["session_id"])
    op.create_index(
        "uq_one_refund_in_flight",
        "refunds",
        ["attempt_id"],
        unique=True,
        sqlite_where=sa.text(_IN_FLIGHT),
        postgresql_where=sa.text(_IN_FLIGHT),
    )
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("totp_secret_encrypted", sa.Text(), nullable=True),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("last_login_at", _TS, nullable=True),
    )
    op.create_table(
        "operator_actions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("payment_sessions.id"), nullable=True),
        sa.Column("attempt_id", sa.Integer(), sa.ForeignKey("payment_attempts.id"), nullable=True),
        sa.Column("exception_id", sa.Integer(), sa.ForeignKey("operator_exceptions.id"), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", _TS, nullable=False),
    )
    op.create_index("ix_operator_actions_session_id", "operator_actions", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_operator_actions_session_id", table_name="operator_actions")
    op.drop_table("operator_actions")
    op.drop_table("operators")
    op.drop_index("uq_one_refund_in_flight", table_name="refunds")
    op.drop_index("ix_refunds_session_id", table_name="refunds")
    op.drop_index("ix_refunds_attempt_id", table_name="refunds")
    op.drop_table("refunds")
    with op.batch_alter_table("operator_exceptions") as batch:
        batch.drop_column("note")
        batch.drop_column("resolved_by")
    with op.batch_alter_table("payment_attempts") as batch:
        batch.drop_column("deposit_requested_at")
        batch.drop_column("reverse_requested_at")
        batch.drop_column("two_phase")
        batch.drop_column("deposited_minor")
