"""staff users

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-03 10:00:00.000000

The back office's staff users with their optional second factor (TOTP) and its recovery
codes, the account setting that requires that factor, and the staff user who made an API
key in the back office.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("iduser", Id, autoincrement=True, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("username_key", sa.String(length=300), nullable=False),
        sa.Column("firstname", sa.String(length=255), nullable=True),
        sa.Column("lastname", sa.String(length=255), nullable=True),
        sa.Column("emailaddress", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("admin", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("credentials_version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_staff_users_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("iduser", name=op.f("pk_staff_users")),
        sa.UniqueConstraint(
            "account_id", "username_key", name=op.f("uq_staff_users_account_id_username_key")
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.create_index("ix_staff_users_account", ["account_id", "iduser"], unique=False)

    op.create_table(
        "staff_recovery_codes",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("iduser", Id, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["iduser"],
            ["staff_users.iduser"],
            name=op.f("fk_staff_recovery_codes_iduser_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_recovery_codes")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("staff_recovery_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_recovery_codes_iduser"), ["iduser"], unique=False
        )

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("require_staff_2fa", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by_iduser", Id, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_api_keys_created_by_iduser_staff_users"),
            "staff_users",
            ["created_by_iduser"],
            ["iduser"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_api_keys_created_by_iduser_staff_users"), type_="foreignkey"
        )
        batch_op.drop_column("created_by_iduser")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("require_staff_2fa")
    with op.batch_alter_table("staff_recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_recovery_codes_iduser"))
    op.drop_table("staff_recovery_codes")
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_users_account")
    op.drop_table("staff_users")
