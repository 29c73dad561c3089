"""A secret the back office shows once, carried across the redirect after the POST that
made it (a new API key, a hook's secret, a generated password): sealed in the database
under a token, read and deleted by the page the redirect leads to. Reloading that page
never sends the POST again, and never shows the secret again."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import NamedTuple

import msgspec
import sqlalchemy as sa

from ..accounts.service import Account
from ..clock import utcnow
from ..db import Connection, Database, Query
from ..encryption import box_for
from ..tables import shown_once
from .service import StaffView

# Long enough for a slow redirect, short enough that a secret nobody fetched goes soon.
KEPT_SECONDS = 600

_p = sa.bindparam
FORGET_OLD = sa.delete(shown_once).where(shown_once.c.created_at < _p("before"))
KEEP = sa.insert(shown_once).values(
    token_hash=_p("token_hash"),
    account_id=_p("account_id"),
    iduser=_p("iduser"),
    kind=_p("kind"),
    object_id=_p("object_id"),
    payload=_p("payload"),
    created_at=_p("now"),
)


# Deleting is reading: of two loads of the page, one shows the secret.
class TakenRow(NamedTuple):
    payload: str  # sealed


TAKE = Query(
    sa.delete(shown_once)
    .where(
        shown_once.c.token_hash == _p("token_hash"),
        shown_once.c.account_id == _p("account_id"),
        shown_once.c.iduser == _p("iduser"),
        shown_once.c.kind == _p("kind"),
        shown_once.c.object_id == _p("object_id"),
        shown_once.c.created_at >= _p("before"),
    )
    .returning(shown_once.c.payload),
    TakenRow,
)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def keep(
    database: Database,
    account: Account,
    user: StaffView,
    kind: str,
    object_id: int,
    payload: Mapping[str, object],
) -> str:
    """Seal `payload` for `user`'s next look at `kind` `object_id`; the token to ask for
    it with."""
    token = secrets.token_urlsafe(24)
    sealed = box_for(database).seal(msgspec.json.encode(payload).decode())
    now = utcnow()

    async def write(connection: Connection) -> None:
        await connection.execute(FORGET_OLD, {"before": now - timedelta(seconds=KEPT_SECONDS)})
        await connection.execute(
            KEEP,
            {
                "token_hash": _hash(token),
                "account_id": account.id,
                "iduser": user.iduser,
                "kind": kind,
                "object_id": object_id,
                "payload": sealed,
                "now": now,
            },
        )

    await database.write(write)
    return token


async def take(
    database: Database,
    account: Account,
    user: StaffView,
    kind: str,
    object_id: int,
    token: str | None,
) -> dict[str, object] | None:
    """The payload kept under `token` for this user, kind and object, once; None when
    there is none (shown already, too old, or somebody else's)."""
    if not token or len(token) > 64:
        return None
    values = {
        "token_hash": _hash(token),
        "account_id": account.id,
        "iduser": user.iduser,
        "kind": kind,
        "object_id": object_id,
        "before": utcnow() - timedelta(seconds=KEPT_SECONDS),
    }
    row = await database.write(lambda c: c.one(TAKE, values))
    if row is None:
        return None
    payload: dict[str, object] = msgspec.json.decode(box_for(database).open(row.payload))
    return payload
