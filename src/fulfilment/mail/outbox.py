"""The outbox: a mail is a row written in the same transaction as whatever asked for it;
the engine sends it (handler.py)."""

from __future__ import annotations

from ..db import Connection
from ..jobs.engine import now
from . import queries
from .messages import Mail


async def enqueue(connection: Connection, account_id: int, mail: Mail) -> None:
    """Keep `mail` to be sent, in the caller's transaction."""
    await connection.execute(
        queries.ENQUEUE,
        {
            "account_id": account_id,
            "kind": mail.kind,
            "recipient": mail.recipient,
            "sender_name": mail.sender_name,
            "subject": mail.subject,
            "body_text": mail.body_text,
            "body_html": mail.body_html,
            "now": now(),
        },
    )
