"""Every example of the reference page, replayed against the service."""

from __future__ import annotations

from tests.factories import CUSTOMERS, Tenant

EXAMPLE_CREATE_BODY = {
    "name": "Fulfilling Partners",
    "can_login": True,
    "username": "partners",
    "password": "ue73hjdf893",
    "language": "nl",
    "allowed_shipping_profiles": [],
    "preferred_idwarehouse": 1,
}
EXAMPLE_CREATE_ANSWER = {
    "name": "Fulfilling Partners",
    "can_login": True,
    "username": "partners",
    "language": "nl",
    "idtemplate": None,
    "last_login_at": None,
    "allowed_shipping_profiles": [],
    "preferred_idwarehouse": 1,
}
SINGLE_FIELDS = [
    "idfulfilment_customer",
    "name",
    "can_login",
    "username",
    "emailaddress",
    "language",
    "idtemplate",
    "last_login_at",
    "allowed_shipping_profiles",
    "preferred_idwarehouse",
]
LIST_FIELDS = [name for name in SINGLE_FIELDS if name != "allowed_shipping_profiles"]


def example_body(tenant: Tenant) -> dict[str, object]:
    # The reference page's example names warehouse 1; ours is whatever the tenant's got.
    return {**EXAMPLE_CREATE_BODY, "preferred_idwarehouse": tenant.warehouse}


def test_create_answers_as_the_reference_example(tenant: Tenant) -> None:
    answer = tenant.post(CUSTOMERS, example_body(tenant))

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    created = answer.json()
    assert list(created) == SINGLE_FIELDS
    assert isinstance(created["idfulfilment_customer"], int)
    expected = {**EXAMPLE_CREATE_ANSWER, "preferred_idwarehouse": tenant.warehouse}
    assert {k: v for k, v in created.items() if k in expected} == expected
    assert created["emailaddress"] is None
    assert "password" not in created


def test_update_changes_only_the_name(tenant: Tenant) -> None:
    created = tenant.post(CUSTOMERS, example_body(tenant)).json()
    path = f"{CUSTOMERS}/{created['idfulfilment_customer']}"

    answer = tenant.put(path, {"name": "Fulfilling Partners BV"})

    assert answer.status_code == 200
    assert answer.json() == {**created, "name": "Fulfilling Partners BV"}
    assert tenant.get(path).json() == answer.json()


def test_get_single_carries_every_field(tenant: Tenant) -> None:
    created = tenant.create_customer(
        name="FulfilmentPartij BV",
        can_login=True,
        username="fulfilment",
        password="a-long-password",
        allowed_shipping_profiles=tenant.profiles,
        preferred_idwarehouse=tenant.warehouse,
    )

    answer = tenant.get(f"{CUSTOMERS}/{created['idfulfilment_customer']}")

    assert answer.status_code == 200
    single = answer.json()
    assert list(single) == SINGLE_FIELDS
    assert single == created
    assert single["allowed_shipping_profiles"] == tenant.profiles


def test_list_items_carry_the_reference_list_fields(tenant: Tenant) -> None:
    first = tenant.create_customer(name="FulfilmentPartij BV", username="fulfilment")
    second = tenant.create_customer(name="Fulfilling Partners", username="partners", language="en")

    answer = tenant.get(CUSTOMERS)

    assert answer.status_code == 200
    items = answer.json()
    assert [list(item) for item in items] == [LIST_FIELDS, LIST_FIELDS]
    assert [item["idfulfilment_customer"] for item in items] == [
        first["idfulfilment_customer"],
        second["idfulfilment_customer"],
    ]
    assert items[1] == {k: v for k, v in second.items() if k in LIST_FIELDS}
