"""change counters

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 10:00:00.000000

A counter per change channel beside PostgreSQL's NOTIFY: processes that reach the database
through a pooler in transaction mode cannot LISTEN, and read the counter instead.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_counters",
        sa.Column("channel", sa.String(63), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_change_counters")),
    )


def downgrade() -> None:
    op.drop_table("change_counters")
