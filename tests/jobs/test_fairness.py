"""Accounts share the delivery capacity: one account whose receivers never answer delays
only its own deliveries, never another account's."""

from __future__ import annotations

import time

import sqlalchemy as sa

from fulfilment.db import Database
from fulfilment.jobs.handler import ACCOUNT_PLACES
from fulfilment.tables import hook_deliveries
from tests.factories import Tenant
from tests.hooks.helpers import CHANGED, HOOKS, create_hook
from tests.hooks.receiver import Receiver

# What a test ping takes alone is a fraction of a second.
WITHIN_SECONDS = 2.0


def claimed(database: Database, tenant: Tenant) -> int:
    """The tenant's deliveries an engine holds now."""
    statement = sa.select(sa.func.count()).where(
        hook_deliveries.c.account_id == tenant.account.id, hook_deliveries.c.claimed_by.is_not(None)
    )
    with database.engine.connect() as connection:
        return int(connection.execute(statement).scalar_one())


def test_an_account_with_dead_receivers_delays_only_itself(
    tenant: Tenant,
    other_tenant: Tenant,
    database: Database,
    receiver: Receiver,
    silent_addresses: list[str],
) -> None:
    for address in silent_addresses:
        create_hook(tenant, address, CHANGED)
    customer = tenant.create_customer(name="Hostile")
    for number in range(3):
        path = f"/api/v1/fulfilment/customers/{customer['idfulfilment_customer']}"
        assert tenant.put(path, {"name": f"Hostile {number}"}).status_code == 200
    hook = create_hook(other_tenant, receiver.url, CHANGED)
    # The hostile deliveries are under way: as many as an account may run at once.
    deadline = time.monotonic() + 10
    while claimed(database, tenant) < ACCOUNT_PLACES:
        assert time.monotonic() < deadline, "the hostile deliveries were not claimed"
        time.sleep(0.02)

    started = time.monotonic()
    assert other_tenant.post(f"{HOOKS}/{hook['idhook']}/test").status_code == 200
    [ping] = receiver.wait_count(1, seconds=60)

    took = ping.at - started
    assert ping.payload["event"] == "ping"
    assert took < WITHIN_SECONDS
