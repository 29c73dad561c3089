"""Fulfilment customers, their search index and their audit trail."""

from __future__ import annotations

import sqlalchemy as sa

from .base import Id, account_column, metadata, primary_id

fulfilment_customers = sa.Table(
    "fulfilment_customers",
    metadata,
    primary_id("idfulfilment_customer"),
    account_column(),
    # 1, 2, 3... within the account, in creation (and so id) order. Customers are never
    # deleted, so `offset` pagination becomes an index range: `position > offset`.
    sa.Column("position", sa.BigInteger(), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("can_login", sa.Boolean(), nullable=False),
    sa.Column("username", sa.String(100), nullable=True),
    # fields.username_key(username) (NFKC and case folding): uniqueness per account whatever
    # the case or look-alike spelling. It can triple a character's length ("ﬃ" -> "ffi"),
    # hence three times the username's 100 (longer keys are refused).
    sa.Column("username_key", sa.String(300), nullable=True),
    sa.Column("password_hash", sa.String(255), nullable=True),
    sa.Column("emailaddress", sa.String(254), nullable=True),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column(
        "idtemplate", Id, sa.ForeignKey("templates.idtemplate", ondelete="SET NULL"), nullable=True
    ),
    sa.Column(
        "preferred_idwarehouse",
        Id,
        sa.ForeignKey("warehouses.idwarehouse", ondelete="SET NULL"),
        nullable=True,
    ),
    # JSON array of idshippingprovider_profile, in the order the client gave them.
    sa.Column("allowed_shipping_profiles", sa.Text(), nullable=False),
    # casefold() of the name, username and e-mail address: what `search` matches a part of,
    # the same way on every database, each field on its own. Indexed by trigrams (see the
    # migration "search by index": pg_trgm on PostgreSQL, an FTS5 table on SQLite).
    sa.Column("search_name", sa.Text(), nullable=False, server_default=""),
    sa.Column("search_username", sa.Text(), nullable=False, server_default=""),
    sa.Column("search_email", sa.Text(), nullable=False, server_default=""),
    sa.Column("last_login_at", sa.DateTime(), nullable=True),
    # Bumped whenever the password changes or login is switched off: ends portal sessions.
    sa.Column("credentials_version", sa.Integer(), nullable=False, server_default="0"),
    # The second factor, as staff users have it (identity/factors.py).
    sa.Column("totp_secret", sa.String(128), nullable=True),
    sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
    sa.Column("factor_pending", sa.Text(), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.UniqueConstraint("account_id", "position"),
    sa.UniqueConstraint("account_id", "username_key"),
    # A forgotten password asked for by e-mail address (migration "mail").
    sa.Index("ix_fulfilment_customers_email", "account_id", "search_email"),
    sqlite_autoincrement=True,
)

# SQLite's trigram index of the search columns: an FTS5 table whose rowid is the customer's
# id. Declared here only to be named in statements; the migration creates it.
SEARCH_INDEX = "fulfilment_customer_search"
customer_search = sa.table(
    SEARCH_INDEX,
    sa.column("rowid", Id),
    sa.column("fulfilment_customer_search", sa.Text()),
)


audit_events = sa.Table(
    "audit_events",
    metadata,
    primary_id("id"),
    account_column(),
    sa.Column(
        "idfulfilment_customer",
        Id,
        sa.ForeignKey("fulfilment_customers.idfulfilment_customer", ondelete="CASCADE"),
        nullable=False,
    ),
    # create, update or login.
    sa.Column("action", sa.String(16), nullable=False),
    # api_key (actor_id: the key's id), portal (actor_id: the customer's id) or staff
    # (actor_id: the staff user's iduser, in the back office).
    sa.Column("actor_type", sa.String(16), nullable=False),
    sa.Column("actor_id", Id, nullable=False),
    # The key's name at the time, so the trail reads well after a key is revoked.
    sa.Column("actor_name", sa.String(255), nullable=False),
    # JSON object: field -> {"from": old, "to": new}; a password only as "changed".
    sa.Column("changes", sa.Text(), nullable=False),
    sa.Column("occurred_at", sa.DateTime(), nullable=False),
    sa.Index("ix_audit_events_customer", "idfulfilment_customer", "id"),
    # The account's audit log reads every customer's events of an account, newest first.
    sa.Index("ix_audit_events_account", "account_id", "occurred_at", "id"),
    sqlite_autoincrement=True,
)


# PostgreSQL only: pg_trgm's GIN index, and the covering index the walk through an
# account reads instead of the table (migrations "search by index", "search walk index").
_SEARCH_INDEXES = frozenset(
    {"ix_fulfilment_customers_search", "ix_fulfilment_customers_search_walk"}
)


def declared(name: str | None, type_: str, parent_names: object) -> bool:
    """Whether Alembic should compare `name` with this metadata: not the search index the
    migration "search by index" made with each database's own means (the FTS5 table and
    the tables SQLite keeps for it, pg_trgm's GIN index)."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(SEARCH_INDEX)
    return not (type_ == "index" and name in _SEARCH_INDEXES)
