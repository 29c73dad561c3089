"""wider username_key

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 12:50:00.000000

Case folding can make a username longer ("ß" folds to "ss", "ﬃ" to "ffi"): a username
of 100 characters may fold to 300, which varchar(100) refused on PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fulfilment_customers") as batch_op:
        batch_op.alter_column(
            "username_key", existing_type=sa.String(length=100), type_=sa.String(length=300)
        )


def downgrade() -> None:
    with op.batch_alter_table("fulfilment_customers") as batch_op:
        batch_op.alter_column(
            "username_key", existing_type=sa.String(length=300), type_=sa.String(length=100)
        )
