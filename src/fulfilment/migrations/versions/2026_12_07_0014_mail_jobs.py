"""mail jobs

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 14:00:00.000000

Mails become jobs of the one engine that sends webhook deliveries too, so the outbox takes
its lease protocol: a state (pending, sent, failed), a claim with its lease's end beside a
next attempt that no longer moves with the lease, and when the mail was finished. A mail
claimed when the database is upgraded is due again when its lease would have ended.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mail_outbox") as batch:
        batch.add_column(
            sa.Column("state", sa.String(length=16), server_default="pending", nullable=False)
        )
        batch.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("claimed_until", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("finished_at", sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE mail_outbox SET state = 'sent', finished_at = sent_at WHERE sent_at IS NOT NULL"
    )
    op.execute(
        "UPDATE mail_outbox SET state = 'failed', finished_at = abandoned_at "
        "WHERE abandoned_at IS NOT NULL"
    )
    op.execute(
        "UPDATE mail_outbox SET next_attempt_at = coalesce(finished_at, created_at) "
        "WHERE next_attempt_at IS NULL"
    )
    op.drop_index("ix_mail_outbox_due", table_name="mail_outbox")
    with op.batch_alter_table("mail_outbox") as batch:
        batch.alter_column("next_attempt_at", existing_type=sa.DateTime(), nullable=False)
        batch.drop_column("claim")
        batch.drop_column("sent_at")
        batch.drop_column("abandoned_at")
    op.create_index("ix_mail_outbox_due", "mail_outbox", ["state", "next_attempt_at"])
    op.create_index("ix_mail_outbox_claim", "mail_outbox", ["claimed_by"])


def downgrade() -> None:
    op.drop_index("ix_mail_outbox_claim", table_name="mail_outbox")
    op.drop_index("ix_mail_outbox_due", table_name="mail_outbox")
    with op.batch_alter_table("mail_outbox") as batch:
        batch.add_column(sa.Column("claim", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("sent_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("abandoned_at", sa.DateTime(), nullable=True))
        batch.alter_column("next_attempt_at", existing_type=sa.DateTime(), nullable=True)
    op.execute("UPDATE mail_outbox SET sent_at = finished_at WHERE state = 'sent'")
    op.execute("UPDATE mail_outbox SET abandoned_at = finished_at WHERE state = 'failed'")
    op.execute("UPDATE mail_outbox SET next_attempt_at = NULL WHERE state != 'pending'")
    with op.batch_alter_table("mail_outbox") as batch:
        batch.drop_column("finished_at")
        batch.drop_column("claimed_until")
        batch.drop_column("claimed_by")
        batch.drop_column("state")
    op.create_index("ix_mail_outbox_due", "mail_outbox", ["next_attempt_at"])
