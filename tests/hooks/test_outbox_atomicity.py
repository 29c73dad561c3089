"""The outbox's promise, under failure: a change and its event are one transaction, so an
event is stored exactly when its change is. A trigger of the test's own makes one insert of
that transaction fail: the event's (so the change is in and its event cannot be), or the
audit row's, which comes after the event in some changes and before it in others."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from fulfilment.db import Database
from fulfilment.tables import audit_events, hook_deliveries
from tests.factories import CUSTOMERS, Tenant, stored_customers
from tests.portal.helpers import PASSWORD, log_in, post_form

from .helpers import CHANGED, CREATED, HOOKS, create_hook
from .receiver import Receiver

REFUSAL = "refused by the test"


@contextmanager
def inserts_refused(database: Database, table: sa.Table) -> Iterator[None]:
    """Every insert into `table` fails, for the length of the block."""
    trigger = f"refuse_{table.name}"
    if database.is_sqlite:
        create = [
            f"CREATE TRIGGER {trigger} BEFORE INSERT ON {table.name} "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
        ]
        drop = [f"DROP TRIGGER {trigger}"]
    else:
        create = [
            f"CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$",
            f"CREATE TRIGGER {trigger} BEFORE INSERT ON {table.name} "
            f"FOR EACH ROW EXECUTE FUNCTION {trigger}()",
        ]
        # The PostgreSQL database outlives the test: the trigger must not.
        drop = [f"DROP TRIGGER {trigger} ON {table.name}", f"DROP FUNCTION {trigger}()"]
    with database.engine.begin() as connection:
        for statement in create:
            connection.exec_driver_sql(statement)
    try:
        yield
    finally:
        with database.engine.begin() as connection:
            for statement in drop:
                connection.exec_driver_sql(statement)


def _stored(database: Database, tenant: Tenant) -> tuple[list[Any], ...]:
    """The customers, their audit trail and the events for the hooks (from the hooks'
    delivery logs: which deliveries there are, not how far each has got)."""
    with database.engine.connect() as connection:
        audit = [tuple(row) for row in connection.execute(sa.select(audit_events))]
    events = []
    for hook in tenant.get(HOOKS).json():
        log = tenant.get(f"{HOOKS}/{hook['idhook']}/deliveries")
        assert log.status_code == 200, log.text
        events += [(hook["idhook"], entry["webhook_id"], entry["event"]) for entry in log.json()]
    return stored_customers(database), audit, sorted(events)


Change = Callable[[TestClient, Tenant, dict[str, Any]], httpx.Response]


def _create(client: TestClient, tenant: Tenant, customer: dict[str, Any]) -> httpx.Response:
    return tenant.post(CUSTOMERS, {"name": "Created under failure"})


def _update(client: TestClient, tenant: Tenant, customer: dict[str, Any]) -> httpx.Response:
    path = f"{CUSTOMERS}/{customer['idfulfilment_customer']}"
    return tenant.put(path, {"name": "Renamed under failure"})


def _own_password(client: TestClient, tenant: Tenant, customer: dict[str, Any]) -> httpx.Response:
    base = "/portal/acme/"
    page = client.get(base)
    new = "a new password 1"
    return post_form(
        client,
        base,
        "password",
        page,
        current_password=PASSWORD,
        new_password=new,
        new_password_again=new,
    )


CHANGES: dict[str, Change] = {
    "api create": _create,
    "api update": _update,
    "portal password": _own_password,
}


@pytest.fixture
def customer(tenant: Tenant, receiver: Receiver) -> dict[str, Any]:
    """A customer that may log in, and hooks on both events (so every change has one)."""
    create_hook(tenant, receiver.url, CREATED)
    create_hook(tenant, receiver.url, CHANGED)
    return tenant.create_customer(
        name="Atomic BV", can_login=True, username="atomic", password=PASSWORD
    )


@pytest.mark.parametrize("failing", [hook_deliveries, audit_events], ids=["event", "audit row"])
@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_change_whose_transaction_fails_leaves_neither_it_nor_its_event(
    client: TestClient,
    tenant: Tenant,
    database: Database,
    customer: dict[str, Any],
    change: Change,
    failing: sa.Table,
) -> None:
    assert log_in(client, "/portal/acme/", "atomic", PASSWORD).status_code == 303
    before = _stored(database, tenant)

    with inserts_refused(database, failing):
        refused = change(client, tenant, customer)

    assert refused.status_code >= 500, refused.text
    assert _stored(database, tenant) == before
    # Without the failure, the same change is stored with its event.
    done = change(client, tenant, customer)
    assert done.status_code in (200, 303), done.text
    after = _stored(database, tenant)
    assert len(after[0]) >= len(before[0])
    assert after[1] != before[1]
    assert len(after[2]) == len(before[2]) + 1
