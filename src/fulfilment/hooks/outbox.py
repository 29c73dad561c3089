"""The outbox: an event is recorded once, with one delivery per active hook on it, by the
unit of work that makes the change, so that a committed change always has its event and a
rolled-back one never has."""

from __future__ import annotations

import msgspec

from ..clock import utcnow
from ..db import Connection
from . import queries
from .schemas import CUSTOMER_CHANGED, CUSTOMER_CREATED

_encoder = msgspec.json.Encoder()


async def announce(connection: Connection, account_id: int, event: str, data: object) -> None:
    """Record `event` with `data` (the object as GET answers it now) once, and a delivery
    of it for each of the account's active hooks on it, in the caller's transaction. An
    account without such a hook stores nothing."""
    values = {
        "account_id": account_id,
        "event": event,
        "data": _encoder.encode(data).decode(),
        "now": utcnow(),
    }
    if not connection.is_sqlite:
        # Nothing reads the deliveries in the same transaction: they go with its COMMIT.
        await connection.execute_at_commit(queries.ANNOUNCE, values)
        return
    recorded = await connection.one(queries.NEW_EVENT, values)
    if recorded is not None:
        await connection.execute(queries.FAN_OUT, {**values, "idevent": recorded.idevent})


async def customer_created(connection: Connection, account_id: int, customer: object) -> None:
    await announce(connection, account_id, CUSTOMER_CREATED, customer)


async def customer_changed(connection: Connection, account_id: int, customer: object) -> None:
    await announce(connection, account_id, CUSTOMER_CHANGED, customer)
