"""Staff users and their recovery codes, links that work once, and secrets shown once."""

from __future__ import annotations

import sqlalchemy as sa

from .base import Id, account_column, metadata, primary_id

staff_users = sa.Table(
    "staff_users",
    metadata,
    primary_id("iduser"),
    account_column(),
    sa.Column("username", sa.String(100), nullable=False),
    # fields.username_key(username): unique per account whatever the case or spelling.
    sa.Column("username_key", sa.String(300), nullable=False),
    sa.Column("firstname", sa.String(255), nullable=True),
    sa.Column("lastname", sa.String(255), nullable=True),
    sa.Column("emailaddress", sa.String(254), nullable=False),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("admin", sa.Boolean(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    # The TOTP seed once the second factor is enrolled (confirmed with a code), encrypted
    # (encryption.py): codes are checked with it, so it cannot be hashed.
    sa.Column("totp_secret", sa.String(128), nullable=True),
    # The last TOTP time step accepted: a code is good once.
    sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
    # Bumped by a new password, deactivation or a reset of the second factor: ends sessions.
    sa.Column("credentials_version", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("last_login_at", sa.DateTime(), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.UniqueConstraint("account_id", "username_key"),
    sa.Index("ix_staff_users_account", "account_id", "iduser"),
    sqlite_autoincrement=True,
)


# One-time recovery codes of a staff user's second factor: SHA-256 of each (they are
# random, so a fast hash is enough), removed when used.
staff_recovery_codes = sa.Table(
    "staff_recovery_codes",
    metadata,
    primary_id("id"),
    sa.Column(
        "iduser",
        Id,
        sa.ForeignKey("staff_users.iduser", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("code_hash", sa.String(64), nullable=False),
    sqlite_autoincrement=True,
)


# Links that work once: a forgotten password, an invitation, a new e-mail address. Only a
# SHA-256 of the token is kept; `subject_type` + `subject_id` name whose link it is
# (`customer`, an idfulfilment_customer).
one_time_tokens = sa.Table(
    "one_time_tokens",
    metadata,
    primary_id("id"),
    account_column(),
    sa.Column("purpose", sa.String(32), nullable=False),
    sa.Column("subject_type", sa.String(16), nullable=False),
    sa.Column("subject_id", Id, nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    # The address the link was sent to (a new e-mail address: the one to confirm).
    sa.Column("emailaddress", sa.String(254), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("expires_at", sa.DateTime(), nullable=False),
    sa.Column("used_at", sa.DateTime(), nullable=True),
    sqlite_autoincrement=True,
)


# A secret shown once after a POST (a new API key, a hook's secret, a generated password),
# kept encrypted between the POST and the page its redirect leads to, which deletes it.
shown_once = sa.Table(
    "shown_once",
    metadata,
    # The SHA-256 of the token in the address of that page.
    sa.Column("token_hash", sa.String(64), primary_key=True),
    account_column(),
    # Who may see it: the staff user who made it, on this kind of page for this object.
    sa.Column(
        "iduser", Id, sa.ForeignKey("staff_users.iduser", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("object_id", Id, nullable=False),
    sa.Column("payload", sa.Text(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Index("ix_shown_once_created_at", "created_at"),
)
