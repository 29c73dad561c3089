"""shown once

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 13:30:00.000000

A secret the back office shows once (a new API key, a hook's secret, a generated
password) is kept encrypted from the POST that made it until the page its redirect leads
to reads and deletes it, so that reloading that page never sends the POST again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "shown_once",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("iduser", Id, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("object_id", Id, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_shown_once_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["iduser"],
            ["staff_users.iduser"],
            name="fk_shown_once_iduser_staff_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_shown_once"),
    )
    op.create_index("ix_shown_once_created_at", "shown_once", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_shown_once_created_at", table_name="shown_once")
    op.drop_table("shown_once")
