"""account audit

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:30:00.000000

The account's audit trail (changes to its API keys, hooks, staff users and settings), and
an index that reads the customers' events of one account newest first: the back office's
audit log shows both together.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "account_events",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("subject", sa.String(length=16), nullable=False),
        sa.Column("subject_id", Id, nullable=True),
        sa.Column("subject_name", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", Id, nullable=False),
        sa.Column("actor_name", sa.String(length=255), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_events_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_events")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("account_events") as batch:
        batch.create_index("ix_account_events_account", ["account_id", "occurred_at", "id"])
    with op.batch_alter_table("audit_events") as batch:
        batch.create_index("ix_audit_events_account", ["account_id", "occurred_at", "id"])


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_index("ix_audit_events_account")
    with op.batch_alter_table("account_events") as batch:
        batch.drop_index("ix_account_events_account")
    op.drop_table("account_events")
