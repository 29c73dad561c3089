"""The statements behind the mail outbox and one-time tokens, compiled once per dialect."""

from __future__ import annotations

import sqlalchemy as sa

from ..jobs.queue import Queue
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
    state="pending",
    attempts=0,
    next_attempt_at=_p("now"),
    created_at=_p("now"),
)

# The engine's kind (jobs/queue.py): a sent mail is `sent`.
QUEUE = Queue(outbox, done="sent")
CLAIMED = sa.select(
    outbox.c.id,
    outbox.c.account_id,
    outbox.c.attempts,
    outbox.c.kind,
    outbox.c.recipient,
    outbox.c.sender_name,
    outbox.c.subject,
    outbox.c.body_text,
    outbox.c.body_html,
).where(outbox.c.claimed_by == _p("claim"))

_claimed = (outbox.c.id == _p("id"), outbox.c.claimed_by == _p("claim"))
NOTE_ERROR = sa.update(outbox).where(*_claimed).values(last_error=_p("error"))
# Sent or given up on: the bodies go (the links in them worked only while the mail waited).
DROP_BODIES = sa.update(outbox).where(*_claimed).values(body_text=sa.null(), body_html=sa.null())
# Retention: finished mails, and links used or expired, past the window.
FORGET_MAILS = QUEUE.forget
FORGET_TOKENS = sa.delete(tokens).where(
    sa.or_(tokens.c.used_at < _p("before"), tokens.c.expires_at < _p("before"))
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
