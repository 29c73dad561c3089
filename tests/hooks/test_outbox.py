"""The outbox: every committed change of a customer has its event, recorded in the same
transaction, with the customer exactly as GET answers it right after; nothing else has."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from fulfilment.db import Database
from fulfilment.tables import hook_deliveries, hook_events
from tests.factories import CUSTOMERS, Tenant
from tests.portal.helpers import PASSWORD, log_in, post_form

from .helpers import CHANGED, CREATED, create_hook, stored_deliveries
from .receiver import Receiver


@pytest.fixture
def both_hooks(tenant: Tenant, receiver: Receiver) -> None:
    create_hook(tenant, receiver.url, CREATED)
    create_hook(tenant, receiver.url, CHANGED)


def stored_events(database: Database) -> list[dict[str, Any]]:
    with database.engine.connect() as connection:
        rows = connection.execute(sa.select(hook_events).order_by(hook_events.c.idevent))
        return [dict(row._mapping) for row in rows]


def events(database: Database) -> list[tuple[str, dict[str, Any]]]:
    return [(row["event"], json.loads(row["data"])) for row in stored_deliveries(database)]


@pytest.mark.pgbouncer
@pytest.mark.usefixtures("both_hooks")
def test_create_and_update_record_the_customer_as_get_answers_it(
    tenant: Tenant, database: Database
) -> None:
    created = tenant.create_customer(
        name="Outbox BV", emailaddress="a@example.com", allowed_shipping_profiles=tenant.profiles
    )
    path = f"{CUSTOMERS}/{created['idfulfilment_customer']}"
    updated = tenant.put(path, {"name": "Outbox NV", "password": "long enough"}).json()

    assert events(database) == [(CREATED, created), (CHANGED, updated)]
    assert tenant.get(path).json() == updated


@pytest.mark.pgbouncer
@pytest.mark.usefixtures("both_hooks")
def test_a_refused_change_records_nothing(tenant: Tenant, database: Database) -> None:
    tenant.create_customer(name="Taken", username="taken")
    other = tenant.create_customer(name="Other")
    before = [row["iddelivery"] for row in stored_deliveries(database)]

    refused = [
        tenant.post(CUSTOMERS, {"name": "Again", "username": "TAKEN"}),
        tenant.put(f"{CUSTOMERS}/{other['idfulfilment_customer']}", {"username": "taken"}),
        tenant.put(f"{CUSTOMERS}/{other['idfulfilment_customer']}", {"idtemplate": 999}),
        tenant.post(CUSTOMERS, {"name": "x", "can_login": True}),
    ]

    assert [answer.status_code for answer in refused] == [400, 400, 400, 400]
    assert [row["iddelivery"] for row in stored_deliveries(database)] == before


@pytest.mark.usefixtures("both_hooks")
def test_a_put_that_changes_nothing_records_nothing(tenant: Tenant, database: Database) -> None:
    created = tenant.create_customer(name="Same")

    tenant.put(f"{CUSTOMERS}/{created['idfulfilment_customer']}", {"name": "Same"})

    assert [event for event, _ in events(database)] == [CREATED]


def test_only_active_hooks_of_the_account_on_the_event_get_a_delivery(
    tenant: Tenant, other_tenant: Tenant, database: Database, receiver: Receiver
) -> None:
    on_created = create_hook(tenant, receiver.url, CREATED)
    inactive = create_hook(tenant, receiver.url + "/off", CREATED)
    tenant.client.delete(f"/api/v1/hooks/{inactive['idhook']}", auth=tenant.auth)
    create_hook(tenant, receiver.url, CHANGED)
    create_hook(other_tenant, receiver.url, CREATED)

    tenant.create_customer(name="Only one")

    [delivery] = stored_deliveries(database)
    assert delivery["idhook"] == on_created["idhook"]
    assert delivery["account_id"] == tenant.account.id


def test_a_portal_password_change_is_a_change_and_a_login_is_not(
    client: TestClient, tenant: Tenant, database: Database, receiver: Receiver
) -> None:
    customer = tenant.create_customer(
        name="Portal user", can_login=True, username="portal", password=PASSWORD
    )
    create_hook(tenant, receiver.url, CHANGED)
    base = "/portal/acme/"

    assert log_in(client, base, "portal", PASSWORD).status_code == 303
    assert stored_deliveries(database) == []

    new_password = "another long one"
    answer = post_form(
        client,
        base,
        "password",
        client.get(base),
        current_password=PASSWORD,
        new_password=new_password,
        new_password_again=new_password,
    )
    assert answer.status_code == 303
    [(event, data)] = events(database)
    assert event == CHANGED
    after = tenant.get(f"{CUSTOMERS}/{customer['idfulfilment_customer']}").json()
    assert data == after
    assert after["last_login_at"] is not None


def test_an_events_payload_is_stored_once_however_many_hooks_receive_it(
    tenant: Tenant, other_tenant: Tenant, database: Database, receiver: Receiver
) -> None:
    hooks = [create_hook(tenant, f"{receiver.url}/{number}", CHANGED) for number in range(5)]
    created = tenant.create_customer(name="Once")
    other_tenant.create_customer(name="No hooks, no event")
    assert stored_events(database) == []  # no hook on `created`: nothing stored

    changed = tenant.put(
        f"{CUSTOMERS}/{created['idfulfilment_customer']}", {"name": "Once more"}
    ).json()

    [event] = stored_events(database)
    assert (event["account_id"], event["event"]) == (tenant.account.id, CHANGED)
    assert json.loads(event["data"]) == changed
    deliveries = stored_deliveries(database)
    assert sorted(row["idhook"] for row in deliveries) == [hook["idhook"] for hook in hooks]
    assert {row["idevent"] for row in deliveries} == {event["idevent"]}
    assert all("data" not in column.name for column in hook_deliveries.columns)
