"""The bank's "pending payment" (orderStatus 7) is an open state; a customer who waited on the processing page is
released to the store (Ecwid AWAITING_PAYMENT) once, and when that happened is kept.

- ``customer_returned_at`` / ``released_at`` on attempts;
- the one-open-attempt index now counts ``pending`` as open.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_OPEN_BEFORE = "status IN ('authenticating', 'registered', 'registering')"
_OPEN_NOW = "status IN ('authenticating', 'pending', 'registered', 'registering')"


def _open_index(where: str) -> None:
    op.create_index(
        "uq_one_open_attempt",
        "payment_attempts",
        ["session_id"],
        unique=True,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    with op.batch_alter_table("payment_attempts") as batch:
        batch.add_column(sa.Column("customer_returned_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("released_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_index("uq_one_open_attempt", table_name="payment_attempts")
    _open_index(_OPEN_NOW)


def downgrade() -> None:
    op.drop_index("uq_one_open_attempt", table_name="payment_attempts")
    _open_index(_OPEN_BEFORE)
    with op.batch_alter_table("payment_attempts") as batch:
        batch.drop_column("released_at")
        batch.drop_column("customer_returned_at")
