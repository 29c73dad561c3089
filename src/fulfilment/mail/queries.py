"""The statements behind the mail outbox and the retention of one-time tokens, compiled
once per dialect."""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa

from ..db import Query
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


class MailJob(NamedTuple):
    """A claimed mail: what sending it needs."""

    id: int
    account_id: int
    attempts: int
    kind: str
    recipient: str
    sender_name: str
    subject: str
    body_text: str | None
    body_html: str | None


CLAIMED = Query(
    sa.select(
        outbox.c.id,
        outbox.c.account_id,
        outbox.c.attempts,
        outbox.c.kind,
        outbox.c.recipient,
        outbox.c.sender_name,
        outbox.c.subject,
        outbox.c.body_text,
        outbox.c.body_html,
    ).where(outbox.c.claimed_by == _p("claim")),
    MailJob,
)

_claimed = (outbox.c.id == _p("id"), outbox.c.claimed_by == _p("claim"))
NOTE_ERROR = sa.update(outbox).where(*_claimed).values(last_error=_p("error"))
# Sent or given up on: the bodies go (the links in them worked only while the mail waited).
DROP_BODIES = sa.update(outbox).where(*_claimed).values(body_text=sa.null(), body_html=sa.null())
# Retention: finished mails, and links used or expired, past the window.
FORGET_MAILS = QUEUE.forget
FORGET_TOKENS = sa.delete(tokens).where(
    sa.or_(tokens.c.used_at < _p("before"), tokens.c.expires_at < _p("before"))
)
