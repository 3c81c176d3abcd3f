"""A trace id per payment session: the request id of the paymentUrl request that created it, carried by every log
line about the payment (callbacks, return, poller, Ecwid update).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payment_sessions") as batch:
        batch.add_column(sa.Column("trace_id", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payment_sessions") as batch:
        batch.drop_column("trace_id")
