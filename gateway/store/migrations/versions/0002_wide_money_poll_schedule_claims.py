"""64-bit money and Ecwid ids; a poll schedule per attempt; outbox claims that crashes cannot use up.

- ``amount_minor``, ``store_id``, ``ecwid_internal_id`` become BIGINT (PostgreSQL's INTEGER stops at
  21,474,836.47 AMD); ``refunded_minor`` records what the bank reports refunded.
- ``next_poll_at`` / ``poll_count`` / ``poll_errors``: the poller takes attempts by a due time that moves on every
  check, so a backlog cannot starve newer payments. Open attempts get a due time now.
- ``claim_token`` / ``local_errors``: a relay claim is a lease with an owner; only Ecwid's answers count as tries.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payment_sessions") as batch:
        for column in ("store_id", "amount_minor"):
            batch.alter_column(column, type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=False)
        batch.alter_column(
            "ecwid_internal_id", type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=True
        )
    with op.batch_alter_table("payment_attempts") as batch:
        batch.alter_column("amount_minor", type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=False)
        batch.add_column(sa.Column("refunded_minor", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("next_poll_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("poll_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("poll_errors", sa.Integer(), nullable=False, server_default="0"))
        batch.create_index("ix_payment_attempts_next_poll_at", ["next_poll_at"])
    op.execute(
        "UPDATE payment_attempts SET next_poll_at = updated_at "
        "WHERE status IN ('registering', 'registered', 'authenticating')"
    )
    with op.batch_alter_table("payment_attempts") as batch:
        batch.alter_column("poll_count", server_default=None, existing_type=sa.Integer(), existing_nullable=False)
        batch.alter_column("poll_errors", server_default=None, existing_type=sa.Integer(), existing_nullable=False)
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(32), nullable=True))
        batch.add_column(sa.Column("local_errors", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("local_errors", server_default=None, existing_type=sa.Integer(), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("local_errors")
        batch.drop_column("claim_token")
    with op.batch_alter_table("payment_attempts") as batch:
        batch.drop_index("ix_payment_attempts_next_poll_at")
        batch.drop_column("poll_errors")
        batch.drop_column("poll_count")
        batch.drop_column("next_poll_at")
        batch.drop_column("refunded_minor")
        batch.alter_column("amount_minor", type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=False)
    with op.batch_alter_table("payment_sessions") as batch:
        for column in ("store_id", "amount_minor"):
            batch.alter_column(column, type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=False)
        batch.alter_column(
            "ecwid_internal_id", type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=True
        )
