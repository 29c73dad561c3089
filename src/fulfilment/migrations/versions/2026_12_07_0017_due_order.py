"""due order

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 18:00:00.000000

The engine claims due jobs oldest first, by next attempt and then by id. The due indexes
end with the id too, so that PostgreSQL reads them in that order and stops after the jobs
it claims, rather than reading and sorting every job due at the same moment (a backlog of
one event fanned out to many hooks, or written at once, is due at one moment). SQLite's
indexes end with the row id already.
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_DUE = (
    ("hook_deliveries", "ix_hook_deliveries_due", "iddelivery"),
    ("mail_outbox", "ix_mail_outbox_due", "id"),
)


def upgrade() -> None:
    for table, index, key in _DUE:
        op.drop_index(index, table_name=table)
        op.create_index(index, table, ["state", "next_attempt_at", key])


def downgrade() -> None:
    for table, index, _key in _DUE:
        op.drop_index(index, table_name=table)
        op.create_index(index, table, ["state", "next_attempt_at"])
