"""The statements behind the mail outbox and one-time tokens, compiled once per dialect."""

from __future__ import annotations

import sqlalchemy as sa

from ..tables import mail_outbox as outbox
from ..tables import one_time_tokens as tokens

_p = sa.bindparam

ENQUEUE = sa.insert(outbox).values(
    account_id=_p("account_id"),
    kind=_p("kind"),
    recipient=_p("recipient"),
    sender_name=_p("sender_name"),
    subject=_p("subject"),
    body_text=_p("body_text"),
    body_html=_p("body_html"),
    attempts=0,
    next_attempt_at=_p("now"),
    created_at=_p("now"),
)

# Whether any mail is due: a read, so that an idle outbox costs no write transaction.
ANY_DUE = sa.select(outbox.c.id).where(outbox.c.next_attempt_at <= _p("now")).limit(1)

# The due mails, claimed for a lease: their next attempt moves to the lease's end, so a
# worker that dies leaves them due again. PostgreSQL skips rows another worker is claiming
# (SKIP LOCKED); SQLite's BEGIN IMMEDIATE already lets one writer in at a time.
_due = (
    sa.select(outbox.c.id)
    .where(outbox.c.next_attempt_at <= _p("now"))
    .order_by(outbox.c.next_attempt_at)
    .limit(_p("limit"))
    .with_for_update(skip_locked=True)
)
CLAIM = (
    sa.update(outbox)
    .where(outbox.c.id.in_(_due.scalar_subquery()))
    .values(
        next_attempt_at=_p("lease_until"),
        claim=_p("lease"),
        attempts=outbox.c.attempts + 1,
    )
    .returning(
        outbox.c.id,
        outbox.c.kind,
        outbox.c.recipient,
        outbox.c.sender_name,
        outbox.c.subject,
        outbox.c.body_text,
        outbox.c.body_html,
        outbox.c.attempts,
    )
)

_claimed = (outbox.c.id == _p("id"), outbox.c.claim == _p("lease"))
# Sent: the bodies go (the links in them worked only while the mail waited).
SENT = (
    sa.update(outbox)
    .where(*_claimed)
    .values(
        sent_at=_p("now"),
        next_attempt_at=sa.null(),
        claim=sa.null(),
        body_text=sa.null(),
        body_html=sa.null(),
        last_error=sa.null(),
    )
)
RETRY = (
    sa.update(outbox)
    .where(*_claimed)
    .values(next_attempt_at=_p("next_attempt_at"), claim=sa.null(), last_error=_p("error"))
)
ABANDONED = (
    sa.update(outbox)
    .where(*_claimed)
    .values(
        abandoned_at=_p("now"),
        next_attempt_at=sa.null(),
        claim=sa.null(),
        body_text=sa.null(),
        body_html=sa.null(),
        last_error=_p("error"),
    )
)

TOKEN_INSERT = sa.insert(tokens).values(
    account_id=_p("account_id"),
    purpose=_p("purpose"),
    subject_type=_p("subject_type"),
    subject_id=_p("subject_id"),
    token_hash=_p("token_hash"),
    emailaddress=_p("emailaddress"),
    created_at=_p("now"),
    expires_at=_p("expires_at"),
)
_usable = (
    tokens.c.token_hash == _p("token_hash"),
    tokens.c.account_id == _p("account_id"),
    tokens.c.subject_type == _p("subject_type"),
    # One purpose, or either of two (a password set through a reset or an invitation).
    tokens.c.purpose.in_([_p("purpose"), _p("or_purpose")]),
    tokens.c.used_at.is_(None),
    tokens.c.expires_at > _p("now"),
)
_token_columns = (tokens.c.purpose, tokens.c.subject_id, tokens.c.emailaddress)
TOKEN_PEEK = sa.select(*_token_columns).where(*_usable)
# Using a token is one statement: of two requests with the same link, one gets the row.
TOKEN_USE = sa.update(tokens).where(*_usable).values(used_at=_p("now")).returning(*_token_columns)
