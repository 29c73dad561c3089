"""Paths and methods that do not exist, in the wire format."""

from __future__ import annotations

from tests.factories import API, CUSTOMERS, Tenant


def test_unknown_path_is_404_code_8(tenant: Tenant) -> None:
    answer = tenant.get(f"{API}/no-such-thing")

    assert answer.status_code == 404
    assert answer.json() == {
        "error": True,
        "error_code": 8,
        "error_message": f"There is no {API}/no-such-thing.",
    }


def test_delete_is_405_with_allow(tenant: Tenant) -> None:
    customer = tenant.create_customer(name="Kept")
    path = f"{CUSTOMERS}/{customer['idfulfilment_customer']}"

    answer = tenant.client.delete(path, auth=tenant.auth)

    assert answer.status_code == 405
    assert answer.json()["error_code"] == 8
    assert {m.strip() for m in answer.headers["allow"].split(",")} == {"GET", "HEAD", "PUT"}
    assert tenant.get(path).status_code == 200


def test_405_on_the_collection_names_get_and_post(tenant: Tenant) -> None:
    answer = tenant.client.patch(CUSTOMERS, auth=tenant.auth)

    assert answer.status_code == 405
    assert {m.strip() for m in answer.headers["allow"].split(",")} == {"GET", "HEAD", "POST"}


def test_requests_without_a_user_agent_are_served(tenant: Tenant) -> None:
    answer = tenant.client.get(CUSTOMERS, auth=tenant.auth, headers={"User-Agent": ""})

    assert answer.status_code == 200
