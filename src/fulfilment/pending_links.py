"""Links that work once (a reset, an invitation, a new e-mail address) still pending for
a person: a change of its credentials voids them all, whichever part of the service made
the change (identity/'s pages and links, or the customers and staff services)."""

from __future__ import annotations

import sqlalchemy as sa

from .clock import utcnow
from .db import Connection
from .tables import one_time_tokens as tokens

_p = sa.bindparam

# One statement for both kinds of person (`subject_type`: customer or staff).
VOID_LINKS = (
    sa.update(tokens)
    .where(
        tokens.c.account_id == _p("account_id"),
        tokens.c.subject_type == _p("subject_type"),
        tokens.c.subject_id == _p("id"),
        tokens.c.used_at.is_(None),
    )
    .values(used_at=_p("now"))
)


async def void_links(
    connection: Connection, subject_type: str, account_id: int, person_id: int
) -> None:
    """Every pending link of the person stops working (its credentials just changed)."""
    values = {"account_id": account_id, "subject_type": subject_type, "id": person_id}
    await connection.execute(VOID_LINKS, {**values, "now": utcnow()})
