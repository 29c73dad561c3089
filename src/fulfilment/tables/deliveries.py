"""Work done after the change that asks for it: hooks with their events, deliveries and
attempts, and the mail outbox."""

from __future__ import annotations

import sqlalchemy as sa

from .base import Id, account_column, metadata, primary_id

# Webhooks (see hooks/). A hook is never deleted, only deactivated, so its deliveries and
# their log stay readable.
hooks = sa.Table(
    "hooks",
    metadata,
    primary_id("idhook"),
    account_column(),
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
    primary_id("idevent"),
    account_column(),
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
    primary_id("iddelivery"),
    account_column(),
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
    primary_id("idattempt"),
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
    primary_id("id"),
    account_column(),
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
