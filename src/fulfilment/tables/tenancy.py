"""Accounts, their API keys, their own audit trail, and the change counters."""

from __future__ import annotations

import sqlalchemy as sa

from .base import Id, account_column, metadata, primary_id

accounts = sa.Table(
    "accounts",
    metadata,
    primary_id("id"),
    sa.Column("subdomain", sa.String(63), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    # How many fulfilment customers the account has had: the next one's `position`.
    sa.Column("customer_count", sa.BigInteger(), nullable=False, server_default="0"),
    # Every staff user must log in to the back office with a second factor (TOTP).
    sa.Column("require_staff_2fa", sa.Boolean(), nullable=False, server_default=sa.false()),
    # Every portal customer must log in with a second factor (a TOTP or a passkey).
    sa.Column("require_portal_2fa", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sqlite_autoincrement=True,
)


api_keys = sa.Table(
    "api_keys",
    metadata,
    primary_id("id"),
    account_column(),
    sa.Column(
        "idfulfilment_customer",
        Id,
        sa.ForeignKey("fulfilment_customers.idfulfilment_customer", ondelete="CASCADE"),
        nullable=True,
    ),
    sa.Column("name", sa.String(255), nullable=False),
    # SHA-256 of the key: keys are 256-bit random strings, so a fast hash is enough and
    # keeps authentication to one indexed lookup.
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    # The first characters of the key, to tell keys apart in listings.
    sa.Column("key_prefix", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("revoked_at", sa.DateTime(), nullable=True),
    # The staff user who made the key in the back office; null for one made on the command
    # line (`GET /api/v1/users/me` answers 404 for those).
    sa.Column(
        "created_by_iduser",
        Id,
        sa.ForeignKey("staff_users.iduser", ondelete="SET NULL"),
        nullable=True,
    ),
    # To the minute at best: written at most once a minute per key (see auth.KeyUsage).
    sa.Column("last_used_at", sa.DateTime(), nullable=True),
    sa.Index("ix_api_keys_account", "account_id"),
    sqlite_autoincrement=True,
)


# The account's own audit trail: every change to its API keys, hooks, staff users and
# settings, written in the same transaction as the change (customer changes are in
# audit_events; the back office's audit log shows both).
account_events = sa.Table(
    "account_events",
    metadata,
    primary_id("id"),
    account_column(),
    # api_key, hook, staff_user or settings.
    sa.Column("subject", sa.String(16), nullable=False),
    # The key's, hook's or user's id; null for the account's settings.
    sa.Column("subject_id", Id, nullable=True),
    # Its name at the time, so the trail reads well after it is gone or renamed.
    sa.Column("subject_name", sa.String(255), nullable=False),
    # create, revoke, update, deactivate, reactivate, admin, reset_2fa, invite...
    sa.Column("action", sa.String(32), nullable=False),
    # staff (actor_id: iduser), api_key (actor_id: the key's id) or command_line (0).
    sa.Column("actor_type", sa.String(16), nullable=False),
    sa.Column("actor_id", Id, nullable=False),
    sa.Column("actor_name", sa.String(255), nullable=False),
    # JSON object: field -> {"from": old, "to": new}; a secret only as "changed".
    sa.Column("changes", sa.Text(), nullable=False),
    sa.Column("occurred_at", sa.DateTime(), nullable=False),
    sa.Index("ix_account_events_account", "account_id", "occurred_at", "id"),
    sqlite_autoincrement=True,
)


# How often each change channel (db.NOTIFY_SQL) has signalled, on PostgreSQL: read by the
# processes that cannot LISTEN, such as those behind a pooler in transaction mode.
change_counters = sa.Table(
    "change_counters",
    metadata,
    sa.Column("channel", sa.String(63), primary_key=True),
    sa.Column("version", sa.BigInteger(), nullable=False),
)
