"""The read-only reference data endpoints, in the hosted system's shapes."""

from __future__ import annotations

from fulfilment.db import Database
from fulfilment.reference import service as reference
from tests.factories import API, Tenant


def test_warehouses(tenant: Tenant, other_tenant: Tenant) -> None:
    answer = tenant.get(f"{API}/warehouses")

    assert answer.status_code == 200
    assert answer.json() == [
        {
            "idwarehouse": tenant.warehouse,
            "name": "Main",
            "accept_orders": True,
            "counts_for_general_stock": True,
            "priority": 0,
            "active": True,
        }
    ]
    assert tenant.get(f"{API}/warehouses/{tenant.warehouse}").json() == answer.json()[0]
    missing = tenant.get(f"{API}/warehouses/{other_tenant.warehouse}")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == 20


def test_templates(tenant: Tenant, database: Database) -> None:
    second = database.write_sync(
        lambda c: reference.create_template(c, tenant.account.id, "Gift wrap", default=True)
    )

    answer = tenant.get(f"{API}/templates")

    assert answer.status_code == 200
    assert answer.json() == [
        {"idtemplate": tenant.template, "name": "Default", "default": False},
        {"idtemplate": second.idtemplate, "name": "Gift wrap", "default": True},
    ]


def test_shipping_providers_carry_their_profiles(tenant: Tenant, other_tenant: Tenant) -> None:
    answer = tenant.get(f"{API}/shippingproviders")

    assert answer.status_code == 200
    [provider] = answer.json()
    assert provider["name"] == "PostNL"
    assert provider["provider"] == "PostNL"
    assert provider["active"] is True
    assert provider["profiles"] == [
        {"idshippingprovider_profile": tenant.profiles[0], "name": "Standard", "active": True},
        {"idshippingprovider_profile": tenant.profiles[1], "name": "Signature", "active": True},
    ]
    assert set(provider) == {"idshippingprovider", "name", "provider", "active", "profiles"}


def test_reference_lists_page_by_offset(tenant: Tenant, database: Database) -> None:
    async def add(connection: object) -> None:
        for n in range(104):
            await reference.create_warehouse(connection, tenant.account.id, f"Hall {n}")

    database.write_sync(add)

    first = tenant.get(f"{API}/warehouses").json()
    second = tenant.get(f"{API}/warehouses", params={"offset": 100}).json()

    assert len(first) == 100
    assert [w["name"] for w in second] == [
        "Hall 99",
        "Hall 100",
        "Hall 101",
        "Hall 102",
        "Hall 103",
    ]
    assert tenant.get(f"{API}/templates", params={"offset": "x"}).status_code == 400
