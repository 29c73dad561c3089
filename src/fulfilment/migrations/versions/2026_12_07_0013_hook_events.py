"""hook events

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 13:30:00.000000

An event's payload is stored once, however many hooks receive it: with 300 hooks on an
event, each change wrote 300 copies of the customer (about 131 KB a change on SQLite,
152 KB on PostgreSQL). Deliveries refer to their event. Each delivery waiting when the
database is upgraded becomes an event of its own.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MOVED = ("event", "data", "triggered_at")


def upgrade() -> None:
    op.create_table(
        "hook_events",
        sa.Column("idevent", Id, autoincrement=True, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("triggered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_hook_events_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("idevent", name=op.f("pk_hook_events")),
        sqlite_autoincrement=True,
    )
    op.execute(
        "INSERT INTO hook_events (idevent, account_id, event, data, triggered_at) "
        "SELECT iddelivery, account_id, event, data, triggered_at FROM hook_deliveries"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('hook_events', 'idevent'), "
            "coalesce(max(idevent), 0) + 1, false) FROM hook_events"
        )
    with op.batch_alter_table("hook_deliveries") as batch:
        batch.add_column(sa.Column("idevent", Id, nullable=True))
    op.execute("UPDATE hook_deliveries SET idevent = iddelivery")
    with op.batch_alter_table("hook_deliveries") as batch:
        batch.alter_column("idevent", existing_type=Id, nullable=False)
        batch.create_foreign_key(
            op.f("fk_hook_deliveries_idevent_hook_events"),
            "hook_events",
            ["idevent"],
            ["idevent"],
            ondelete="CASCADE",
        )
        for column in MOVED:
            batch.drop_column(column)
    op.create_index("ix_hook_deliveries_event", "hook_deliveries", ["idevent"])


def downgrade() -> None:
    op.drop_index("ix_hook_deliveries_event", table_name="hook_deliveries")
    with op.batch_alter_table("hook_deliveries") as batch:
        batch.add_column(sa.Column("event", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("data", sa.Text(), nullable=True))
        batch.add_column(sa.Column("triggered_at", sa.DateTime(), nullable=True))
    for column in MOVED:
        op.execute(
            f"UPDATE hook_deliveries SET {column} = (SELECT hook_events.{column} "  # noqa: S608
            "FROM hook_events WHERE hook_events.idevent = hook_deliveries.idevent)"
        )
    with op.batch_alter_table("hook_deliveries") as batch:
        batch.drop_constraint(op.f("fk_hook_deliveries_idevent_hook_events"), type_="foreignkey")
        batch.drop_column("idevent")
        batch.alter_column("event", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("data", existing_type=sa.Text(), nullable=False)
        batch.alter_column("triggered_at", existing_type=sa.DateTime(), nullable=False)
    op.drop_table("hook_events")
