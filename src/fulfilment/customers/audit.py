"""The audit trail of a customer: who created, changed or logged in as it, and when.
Events are written in the same transaction as the change they describe."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from ..actors import Actor, encode
from ..auth import Principal
from ..clock import utcnow
from ..db import Connection, Database
from ..errors import CustomerNotFound
from ..fields import CUSTOMER_FIELDS
from ..wire import PAGE_SIZE, format_datetime
from .queries import CUSTOMER_EXISTS, HISTORY_PAGE, INSERT_EVENT, EventRow
from .schemas import AuditActor, AuditEvent

PASSWORD_CHANGED = "changed"  # noqa: S105 - a marker, not a password

_changes = msgspec.json.Decoder(dict[str, object])
# The labels of write-only fields (the password): the trail only says that they changed.
_SECRET = frozenset(field.audited_as for field in CUSTOMER_FIELDS if field.write_only)


def changes(before: dict[str, object], after: dict[str, object]) -> dict[str, object]:
    """Label -> {"from", "to"} for every field that differs; a password only as "changed"."""
    changed: dict[str, object] = {}
    for field, value in after.items():
        old = before.get(field)
        if old == value:
            continue
        changed[field] = PASSWORD_CHANGED if field in _SECRET else {"from": old, "to": value}
    return changed


async def record(
    connection: Connection,
    account_id: int,
    customer_id: int,
    action: str,
    actor: Actor,
    changed: Mapping[str, object],
) -> None:
    await connection.execute(
        INSERT_EVENT,
        {
            "account_id": account_id,
            "customer_id": customer_id,
            "action": action,
            "actor_type": actor.type,
            "actor_id": actor.id,
            "actor_name": actor.name,
            "changes": encode(changed),
            "occurred_at": utcnow(),
        },
    )


async def history(
    database: Database, principal: Principal, customer_id: int | None, offset: int
) -> list[AuditEvent]:
    key = {"account_id": principal.account_id, "id": customer_id or 0}

    async def read(connection: Connection) -> list[EventRow]:
        if await connection.one(CUSTOMER_EXISTS, key) is None:
            raise CustomerNotFound(customer_id or 0)
        return await connection.all(HISTORY_PAGE, {**key, "offset": offset, "limit": PAGE_SIZE})

    return [
        AuditEvent(
            id=row.id,
            action=row.action,
            occurred_at=format_datetime(row.occurred_at, principal.timezone) or "",
            actor=AuditActor(type=row.actor_type, id=row.actor_id, name=row.actor_name),
            changes=_changes.decode(row.changes),
        )
        for row in await database.read(read)
    ]
