"""identity

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 17:00:00.000000

Portal customers get the second factor staff users have (a TOTP seed, its last step, and
recovery codes), the account a rule requiring it in the portal, and both kinds of person a
server-side place for a second factor being set up. A forgotten password becomes a job
(`password_requests`), so that the answer costs the same whether or not the name is known.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column("require_portal_2fa", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("fulfilment_customers") as batch:
        batch.add_column(sa.Column("totp_secret", sa.String(128), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("factor_pending", sa.Text(), nullable=True))
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("factor_pending", sa.Text(), nullable=True))
    op.create_table(
        "customer_recovery_codes",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("idfulfilment_customer", Id, nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["idfulfilment_customer"],
            ["fulfilment_customers.idfulfilment_customer"],
            name="fk_customer_recovery_codes_customer",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_customer_recovery_codes"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_customer_recovery_codes_idfulfilment_customer",
        "customer_recovery_codes",
        ["idfulfilment_customer"],
    )
    op.create_table(
        "password_requests",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("person_kind", sa.String(16), nullable=False),
        sa.Column("identifier", sa.Text(), nullable=False),
        sa.Column("request_base", sa.String(2048), nullable=True),
        sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_password_requests_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_password_requests"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_password_requests_due", "password_requests", ["state", "next_attempt_at"])
    op.create_index("ix_password_requests_claim", "password_requests", ["claimed_by"])


def downgrade() -> None:
    op.drop_index("ix_password_requests_claim", table_name="password_requests")
    op.drop_index("ix_password_requests_due", table_name="password_requests")
    op.drop_table("password_requests")
    op.drop_index(
        "ix_customer_recovery_codes_idfulfilment_customer", table_name="customer_recovery_codes"
    )
    op.drop_table("customer_recovery_codes")
    op.drop_column("staff_users", "factor_pending")
    op.drop_column("fulfilment_customers", "factor_pending")
    op.drop_column("fulfilment_customers", "totp_last_step")
    op.drop_column("fulfilment_customers", "totp_secret")
    op.drop_column("accounts", "require_portal_2fa")
