"""Hooks through the test client, and the outbox as stored."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from fulfilment.db import Database
from fulfilment.tables import hook_deliveries, hook_events
from tests.factories import API, Tenant

HOOKS = f"{API}/hooks"
CREATED = "fulfilment_customers.created"
CHANGED = "fulfilment_customers.changed"


def create_hook(tenant: Tenant, address: str, event: str = CREATED, **fields: Any) -> Any:
    body = {"name": f"{event} hook", "event": event, "address": address, **fields}
    answer = tenant.post(HOOKS, body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def stored_deliveries(database: Database) -> list[dict[str, Any]]:
    """Every delivery the outbox holds, oldest first, with its event's columns."""
    statement = (
        sa.select(
            hook_deliveries,
            hook_events.c.event,
            hook_events.c.data,
            hook_events.c.triggered_at,
        )
        .select_from(
            hook_deliveries.join(hook_events, hook_events.c.idevent == hook_deliveries.c.idevent)
        )
        .order_by(hook_deliveries.c.iddelivery)
    )
    with database.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(statement)]
