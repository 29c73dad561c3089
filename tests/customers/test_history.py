"""The audit trail at /fulfilment/customers/{id}/history."""

from __future__ import annotations

import re

from fulfilment.accounts import service as accounts
from fulfilment.db import Database
from tests.factories import CUSTOMERS, Tenant

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def test_create_and_updates_are_recorded_with_who_and_what(
    tenant: Tenant, database: Database
) -> None:
    created = tenant.create_customer(
        name="Audited", can_login=True, username="audited", password="first-password"
    )
    path = f"{CUSTOMERS}/{created['idfulfilment_customer']}"
    second_id, second_key = database.write_sync(
        lambda c: accounts.create_api_key(c, tenant.account, "warehouse app")
    )
    tenant.put(path, {"name": "Audited BV", "language": "en"})
    tenant.client.put(path, json={"password": "second-password"}, auth=(second_key, "X"))
    tenant.put(path, {"name": "Audited BV"})  # changes nothing: no event
    refused = tenant.put(path, {"name": "Never", "language": "xx"})
    assert refused.status_code == 400

    answer = tenant.get(f"{path}/history")

    assert answer.status_code == 200
    events = answer.json()
    assert [e["action"] for e in events] == ["create", "update", "update"]
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert all(TIMESTAMP.match(e["occurred_at"]) for e in events)
    assert events[0]["actor"] == {"type": "api_key", "id": tenant.key_ids[0], "name": "tests"}
    assert events[0]["changes"] == {
        "name": {"from": None, "to": "Audited"},
        "can_login": {"from": None, "to": True},
        "username": {"from": None, "to": "audited"},
        "password": "changed",
        "language": {"from": None, "to": "nl"},
        "allowed_shipping_profiles": {"from": None, "to": []},
    }
    assert events[1]["changes"] == {
        "name": {"from": "Audited", "to": "Audited BV"},
        "language": {"from": "nl", "to": "en"},
    }
    assert events[2]["actor"] == {"type": "api_key", "id": second_id, "name": "warehouse app"}
    assert events[2]["changes"] == {"password": "changed"}
    assert "password" not in answer.text.replace('"password":"changed"', "")
    assert "argon2" not in answer.text


def test_history_is_private_to_the_account_and_full_keys(
    tenant: Tenant, other_tenant: Tenant, database: Database
) -> None:
    created = tenant.create_customer(name="Private")
    path = f"{CUSTOMERS}/{created['idfulfilment_customer']}/history"
    _, scoped = database.write_sync(
        lambda c: accounts.create_api_key(
            c, tenant.account, "own", created["idfulfilment_customer"]
        )
    )

    assert other_tenant.get(path).status_code == 404
    assert other_tenant.get(path).json()["error_code"] == 20
    assert tenant.client.get(path, auth=(scoped, "X")).status_code == 403
    assert tenant.get(f"{CUSTOMERS}/987654/history").status_code == 404
    assert tenant.get(path, params={"offset": "-3"}).status_code == 400
