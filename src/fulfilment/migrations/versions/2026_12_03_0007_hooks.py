"""hooks

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:00:00.000000

Webhooks: the hooks, the outbox of deliveries written in the transaction of each change,
and the log of every attempt.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "hooks",
        sa.Column("idhook", Id, autoincrement=True, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=2048), nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("deactivated_because", sa.String(length=16), nullable=True),
        sa.Column("last_success_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_hooks_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("idhook", name=op.f("pk_hooks")),
        sa.UniqueConstraint(
            "account_id", "event", "address", name=op.f("uq_hooks_account_id_event_address")
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "hook_deliveries",
        sa.Column("iddelivery", Id, autoincrement=True, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("idhook", Id, nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("triggered_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_hook_deliveries_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["idhook"],
            ["hooks.idhook"],
            name=op.f("fk_hook_deliveries_idhook_hooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("iddelivery", name=op.f("pk_hook_deliveries")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_hook_deliveries_due", "hook_deliveries", ["state", "next_attempt_at"])
    op.create_index("ix_hook_deliveries_hook", "hook_deliveries", ["idhook", "iddelivery"])
    op.create_index("ix_hook_deliveries_claim", "hook_deliveries", ["claimed_by"])
    op.create_table(
        "hook_attempts",
        sa.Column("idattempt", Id, autoincrement=True, nullable=False),
        sa.Column("iddelivery", Id, nullable=False),
        sa.Column("attempted_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("response", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["iddelivery"],
            ["hook_deliveries.iddelivery"],
            name=op.f("fk_hook_attempts_iddelivery_hook_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("idattempt", name=op.f("pk_hook_attempts")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_hook_attempts_delivery", "hook_attempts", ["iddelivery", "idattempt"])


def downgrade() -> None:
    op.drop_index("ix_hook_attempts_delivery", table_name="hook_attempts")
    op.drop_table("hook_attempts")
    op.drop_index("ix_hook_deliveries_claim", table_name="hook_deliveries")
    op.drop_index("ix_hook_deliveries_hook", table_name="hook_deliveries")
    op.drop_index("ix_hook_deliveries_due", table_name="hook_deliveries")
    op.drop_table("hook_deliveries")
    op.drop_table("hooks")
