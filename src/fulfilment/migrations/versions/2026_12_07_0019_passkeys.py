"""passkeys

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 17:00:00.000000

Portal customers and staff users may register passkeys (WebAuthn) and log in with one;
the challenges of ceremonies under way are kept until answered or expired.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _account() -> sa.Column[int]:
    return sa.Column("account_id", Id, nullable=False)


def upgrade() -> None:
    op.create_table(
        "passkeys",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        _account(),
        sa.Column("person_type", sa.String(16), nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("credential_id", sa.String(1400), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("user_handle", sa.String(128), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_passkeys_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_passkeys"),
        sa.UniqueConstraint("credential_id", name="uq_passkeys_credential_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_passkeys_person", "passkeys", ["account_id", "person_type", "person_id"])
    op.create_table(
        "passkey_challenges",
        sa.Column("challenge_hash", sa.String(64), nullable=False),
        _account(),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("person_type", sa.String(16), nullable=False),
        sa.Column("person_id", Id, nullable=True),
        sa.Column("user_handle", sa.String(128), nullable=True),
        sa.Column("session_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_passkey_challenges_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("challenge_hash", name="pk_passkey_challenges"),
    )
    op.create_index("ix_passkey_challenges_expires_at", "passkey_challenges", ["expires_at"])


def downgrade() -> None:
    # Dropping a table drops its indexes.
    op.drop_table("passkey_challenges")
    op.drop_table("passkeys")
