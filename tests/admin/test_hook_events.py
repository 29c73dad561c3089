"""The back office's changes to a customer are events for its hooks, like the API's."""

from __future__ import annotations

import json
import re

import pytest
from msgspec.structs import replace
from starlette.testclient import TestClient

from fulfilment.db import Database
from fulfilment.settings import Settings
from fulfilment.staff.schemas import User
from tests.factories import CUSTOMERS, Tenant
from tests.hooks.helpers import CHANGED, CREATED, create_hook, stored_deliveries

from .helpers import BASE, log_in, send


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, hooks_allow_private=True)


def test_back_office_create_and_edit_are_events(
    client: TestClient, tenant: Tenant, anna: User, database: Database
) -> None:
    create_hook(tenant, "http://127.0.0.1:9/created", CREATED)
    create_hook(tenant, "http://127.0.0.1:9/changed", CHANGED)
    log_in(client, "anna")
    form = client.get(f"{BASE}customers/new")
    fields = {"name": "Tulp Trading", "language": "en"}
    created = send(client, "customers/new", form, **fields)
    assert created.status_code == 303
    customer_id = tenant.get(CUSTOMERS).json()[0]["idfulfilment_customer"]
    after_create = tenant.get(f"{CUSTOMERS}/{customer_id}").json()
    edit = client.get(f"{BASE}customers/{customer_id}/edit")
    changed = send(client, f"customers/{customer_id}/edit", edit, **{**fields, "name": "Tulp BV"})
    assert changed.status_code == 303
    after_edit = tenant.get(f"{CUSTOMERS}/{customer_id}").json()

    events = [(row["event"], json.loads(row["data"])) for row in stored_deliveries(database)]
    assert events == [(CREATED, after_create), (CHANGED, after_edit)]


def test_the_delivery_log_names_the_customer_each_delivery_is_about(
    client: TestClient, tenant: Tenant, anna: User
) -> None:
    hook = create_hook(tenant, "http://127.0.0.1:9/created", CREATED)
    jansen = tenant.create_customer(name="Jansen Tuinmeubelen")
    smith = tenant.create_customer(name="Smith & Daughters")
    log_in(client, "anna")
    page = client.get(f"{BASE}hooks/{hook['idhook']}/deliveries")
    assert page.status_code == 200
    for customer in (jansen, smith):
        number = customer["idfulfilment_customer"]
        link = f'<a href="{BASE}customers/{number}">'
        assert f"{link}Customer {customer['name']} ({number})</a>".replace("&", "&amp;") in (
            page.text
        )
    # Each delivery's attempts are a region of a name of its own (axe: landmark-unique).
    labels = re.findall(r'role="region" aria-label="([^"]+)"', page.text)
    assert len(labels) == len(set(labels))
