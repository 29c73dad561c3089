"""The database tables, declared once in SQLAlchemy Core metadata."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Ids are 64-bit on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id(name: str) -> sa.Column[int]:
    return sa.Column(name, Id, primary_key=True, autoincrement=True)


def _account() -> sa.Column[int]:
    return sa.Column(
        "account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )


accounts = sa.Table(
    "accounts",
    metadata,
    _id("id"),
    sa.Column("subdomain", sa.String(63), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    # How many fulfilment customers the account has had: the next one's `position`.
    sa.Column("customer_count", sa.BigInteger(), nullable=False, server_default="0"),
    # Every staff user must log in to the back office with a second factor (TOTP).
    sa.Column("require_staff_2fa", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sqlite_autoincrement=True,
)

warehouses = sa.Table(
    "warehouses",
    metadata,
    _id("idwarehouse"),
    _account(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("accept_orders", sa.Boolean(), nullable=False),
    sa.Column("counts_for_general_stock", sa.Boolean(), nullable=False),
    sa.Column("priority", sa.Integer(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Index("ix_warehouses_account", "account_id", "idwarehouse"),
    sqlite_autoincrement=True,
)

templates = sa.Table(
    "templates",
    metadata,
    _id("idtemplate"),
    _account(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("is_default", sa.Boolean(), nullable=False),
    sa.Index("ix_templates_account", "account_id", "idtemplate"),
    sqlite_autoincrement=True,
)

shipping_providers = sa.Table(
    "shipping_providers",
    metadata,
    _id("idshippingprovider"),
    _account(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("provider", sa.String(100), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Index("ix_shipping_providers_account", "account_id", "idshippingprovider"),
    sqlite_autoincrement=True,
)

shipping_provider_profiles = sa.Table(
    "shipping_provider_profiles",
    metadata,
    _id("idshippingprovider_profile"),
    sa.Column(
        "idshippingprovider",
        Id,
        sa.ForeignKey("shipping_providers.idshippingprovider", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    _account(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Index("ix_shipping_profiles_account", "account_id", "idshippingprovider_profile"),
    sqlite_autoincrement=True,
)

fulfilment_customers = sa.Table(
    "fulfilment_customers",
    metadata,
    _id("idfulfilment_customer"),
    _account(),
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

api_keys = sa.Table(
    "api_keys",
    metadata,
    _id("id"),
    _account(),
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

staff_users = sa.Table(
    "staff_users",
    metadata,
    _id("iduser"),
    _account(),
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
    _id("id"),
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

audit_events = sa.Table(
    "audit_events",
    metadata,
    _id("id"),
    _account(),
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

# The account's own audit trail: every change to its API keys, hooks, staff users and
# settings, written in the same transaction as the change (customer changes are in
# audit_events; the back office's audit log shows both).
account_events = sa.Table(
    "account_events",
    metadata,
    _id("id"),
    _account(),
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

# Webhooks (see hooks/). A hook is never deleted, only deactivated, so its deliveries and
# their log stay readable.
hooks = sa.Table(
    "hooks",
    metadata,
    _id("idhook"),
    _account(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("address", sa.String(2048), nullable=False),
    # The secret, encrypted (encryption.py): the service signs with it, so it cannot be
    # stored as a hash.
    sa.Column("secret", sa.Text(), nullable=True),
    sa.Column("active", sa.Boolean(), nullable=False),
    # Why it was deactivated: `deleted` (DELETE) or `failing` (the published rule).
    sa.Column("deactivated_because", sa.String(16), nullable=True),
    sa.Column("last_success_at", sa.DateTime(), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.UniqueConstraint("account_id", "event", "address"),
    sqlite_autoincrement=True,
)

# An event with its payload, stored once however many hooks receive it, in the transaction
# of the change.
hook_events = sa.Table(
    "hook_events",
    metadata,
    _id("idevent"),
    _account(),
    sa.Column("event", sa.String(64), nullable=False),
    # The payload's `data`, as JSON: the object as GET answered it right after the change.
    sa.Column("data", sa.Text(), nullable=False),
    sa.Column("triggered_at", sa.DateTime(), nullable=False),
    sqlite_autoincrement=True,
)

# The outbox: one row per hook and event, written with the event.
hook_deliveries = sa.Table(
    "hook_deliveries",
    metadata,
    _id("iddelivery"),
    _account(),
    sa.Column("idhook", Id, sa.ForeignKey("hooks.idhook", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "idevent", Id, sa.ForeignKey("hook_events.idevent", ondelete="CASCADE"), nullable=False
    ),
    # pending, delivered or failed (the schedule ran out).
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
    # A claim: the instance attempting it now, until when (a crashed one's claim lapses).
    sa.Column("claimed_by", sa.String(64), nullable=True),
    sa.Column("claimed_until", sa.DateTime(), nullable=True),
    sa.Column("finished_at", sa.DateTime(), nullable=True),
    # In the order the engine claims them (jobs/queue.py).
    sa.Index("ix_hook_deliveries_due", "state", "next_attempt_at", "iddelivery"),
    sa.Index("ix_hook_deliveries_hook", "idhook", "iddelivery"),
    sa.Index("ix_hook_deliveries_claim", "claimed_by"),
    # Retention forgets an event once no delivery refers to it.
    sa.Index("ix_hook_deliveries_event", "idevent"),
    sqlite_autoincrement=True,
)

# The delivery log: every attempt, kept for FULFILMENT_HOOKS_LOG_RETENTION_DAYS.
hook_attempts = sa.Table(
    "hook_attempts",
    metadata,
    _id("idattempt"),
    sa.Column(
        "iddelivery",
        Id,
        sa.ForeignKey("hook_deliveries.iddelivery", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("attempted_at", sa.DateTime(), nullable=False),
    # The HTTP status, or null when no answer came (the error says why).
    sa.Column("status", sa.Integer(), nullable=True),
    sa.Column("duration_ms", sa.Integer(), nullable=False),
    sa.Column("error", sa.String(500), nullable=True),
    # The first characters of the answer's body.
    sa.Column("response", sa.String(1000), nullable=True),
    sa.Index("ix_hook_attempts_delivery", "iddelivery", "idattempt"),
    sqlite_autoincrement=True,
)


# Mails waiting to be sent, written in the same transaction as whatever asked for them, and
# sent by the engine (jobs/, mail/handler.py). A sent or failed mail keeps its row without
# its bodies (the links in them work only while the mail waits) until retention.
mail_outbox = sa.Table(
    "mail_outbox",
    metadata,
    _id("id"),
    _account(),
    # password-reset, invitation, ...: what the mail is, for the log and the metrics.
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("recipient", sa.String(254), nullable=False),
    sa.Column("sender_name", sa.String(255), nullable=False),
    sa.Column("subject", sa.Text(), nullable=False),
    sa.Column("body_text", sa.Text(), nullable=True),
    sa.Column("body_html", sa.Text(), nullable=True),
    # The engine's columns (jobs/queue.py): pending, sent or failed (given up on).
    sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
    sa.Column("claimed_by", sa.String(64), nullable=True),
    sa.Column("claimed_until", sa.DateTime(), nullable=True),
    sa.Column("finished_at", sa.DateTime(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Index("ix_mail_outbox_due", "state", "next_attempt_at", "id"),
    sa.Index("ix_mail_outbox_claim", "claimed_by"),
    sqlite_autoincrement=True,
)

# Links that work once: a forgotten password, an invitation, a new e-mail address. Only a
# SHA-256 of the token is kept; `subject_type` + `subject_id` name whose link it is
# (`customer`, an idfulfilment_customer).
one_time_tokens = sa.Table(
    "one_time_tokens",
    metadata,
    _id("id"),
    _account(),
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

# How often each change channel (db.NOTIFY_SQL) has signalled, on PostgreSQL: read by the
# processes that cannot LISTEN, such as those behind a pooler in transaction mode.
change_counters = sa.Table(
    "change_counters",
    metadata,
    sa.Column("channel", sa.String(63), primary_key=True),
    sa.Column("version", sa.BigInteger(), nullable=False),
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


# A secret shown once after a POST (a new API key, a hook's secret, a generated password),
# kept encrypted between the POST and the page its redirect leads to, which deletes it.
shown_once = sa.Table(
    "shown_once",
    metadata,
    # The SHA-256 of the token in the address of that page.
    sa.Column("token_hash", sa.String(64), primary_key=True),
    _account(),
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
