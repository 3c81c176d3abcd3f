"""The TEST-only test clock (``VPOSLAB_TEST_CLOCK``): ``test_clock`` holds the one offset (microseconds, only ever
moved forward) that every process of one gateway adds to its system time. Its one row is written here, so moving the
clock is always a plain atomic ``UPDATE``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "test_clock",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("offset_us", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.bulk_insert(table, [{"id": 1, "offset_us": 0}])


def downgrade() -> None:
    op.drop_table("test_clock")
