"""Staff users and portal customers' recovery codes, links that work once, secrets shown
once, passkeys and their ceremonies' challenges, and forgotten passwords asked for."""

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
    # Encrypted: the TOTP seed being set up until a code confirms it, then the new recovery
    # codes until the page that shows them once has read them (identity/factors.py).
    sa.Column("factor_pending", sa.Text(), nullable=True),
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

# The same for portal customers.
customer_recovery_codes = sa.Table(
    "customer_recovery_codes",
    metadata,
    primary_id("id"),
    sa.Column(
        "idfulfilment_customer",
        Id,
        sa.ForeignKey(
            "fulfilment_customers.idfulfilment_customer",
            ondelete="CASCADE",
            name="fk_customer_recovery_codes_customer",
        ),
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


# A forgotten password asked for (identity/forgot.py): a job of the engine, so that the
# answer to the visitor costs the same whether or not the name is known. The identifier is
# emptied once the job has run.
password_requests = sa.Table(
    "password_requests",
    metadata,
    primary_id("id"),
    account_column(),
    # customer or staff: whose login the request is for.
    sa.Column("person_kind", sa.String(16), nullable=False),
    sa.Column("identifier", sa.Text(), nullable=False),
    sa.Column("request_base", sa.String(2048), nullable=True),
    # The engine's columns (jobs/queue.py).
    sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
    sa.Column("claimed_by", sa.String(64), nullable=True),
    sa.Column("claimed_until", sa.DateTime(), nullable=True),
    sa.Column("finished_at", sa.DateTime(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Index("ix_password_requests_due", "state", "next_attempt_at"),
    sa.Index("ix_password_requests_claim", "claimed_by"),
    sqlite_autoincrement=True,
)


# A person's passkeys (WebAuthn credentials): `person_type` + `person_id` name whose, as in
# one_time_tokens (`customer`: an idfulfilment_customer; `staff`: an iduser). The public key
# is what checks its signatures; nothing secret is kept.
passkeys = sa.Table(
    "passkeys",
    metadata,
    primary_id("id"),
    account_column(),
    sa.Column("person_type", sa.String(16), nullable=False),
    sa.Column("person_id", Id, nullable=False),
    # base64url, as the browser names it; at most 1023 bytes (WebAuthn's limit).
    sa.Column("credential_id", sa.String(1400), nullable=False, unique=True),
    # The COSE public key, base64url.
    sa.Column("public_key", sa.Text(), nullable=False),
    # The handle the authenticator keeps with a discoverable credential (base64url): one
    # per person, so that a login names whose passkey answered.
    sa.Column("user_handle", sa.String(128), nullable=False),
    # The authenticator's signature counter at its last use: a lower or equal one later
    # means a copy of the authenticator (0 forever: one that keeps no counter).
    sa.Column("sign_count", sa.BigInteger(), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("last_used_at", sa.DateTime(), nullable=True),
    sa.Index("ix_passkeys_person", "account_id", "person_type", "person_id"),
    sqlite_autoincrement=True,
)

# The challenges of passkey ceremonies under way: each good once (deleted when answered)
# and for a few minutes. Only a SHA-256 of the challenge is kept.
passkey_challenges = sa.Table(
    "passkey_challenges",
    metadata,
    sa.Column("challenge_hash", sa.String(64), primary_key=True),
    account_column(),
    # "register" (a person adds a passkey) or "login".
    sa.Column("purpose", sa.String(16), nullable=False),
    # Who registers, or which kind of person may log in with it ("customer", "staff").
    sa.Column("person_type", sa.String(16), nullable=False),
    sa.Column("person_id", Id, nullable=True),
    # The user handle a registration gives the authenticator, kept with the passkey.
    sa.Column("user_handle", sa.String(128), nullable=True),
    # SHA-256 of the asking session's form token: the answer must come from that browser.
    sa.Column("session_hash", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.DateTime(), nullable=False),
    sa.Index("ix_passkey_challenges_expires_at", "expires_at"),
)
