"""API keys, accounts and the host rule: who may see what."""

from __future__ import annotations

import base64

import pytest
import sqlalchemy as sa

from fulfilment.accounts import service as accounts
from fulfilment.db import Database
from fulfilment.tables import metadata
from tests.factories import API, CUSTOMERS, Tenant, status_within


def assert_error(answer: object, status: int, code: int) -> None:
    assert answer.status_code == status, answer.text  # type: ignore[attr-defined]
    body = answer.json()  # type: ignore[attr-defined]
    assert body["error"] is True
    assert body["error_code"] == code
    assert body["error_message"]


def basic(value: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(value.encode()).decode()}


def test_no_key_is_401(tenant: Tenant) -> None:
    answer = tenant.client.get(CUSTOMERS)

    assert_error(answer, 401, 101)
    assert answer.headers["www-authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer abc",
        "Basic",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "Basic " + base64.b64encode(b":only-a-password").decode(),
        "Digest username=x",
    ],
)
def test_malformed_authorization_is_401(tenant: Tenant, header: str) -> None:
    assert_error(tenant.client.get(CUSTOMERS, headers={"Authorization": header}), 401, 101)


def test_unknown_key_is_401(tenant: Tenant) -> None:
    assert_error(tenant.client.get(CUSTOMERS, auth=("fk_unknown", "X")), 401, 101)


@pytest.mark.parametrize("password", ["X", "", "anything at all"])
def test_the_password_is_ignored(tenant: Tenant, password: str) -> None:
    assert tenant.client.get(CUSTOMERS, auth=(tenant.key, password)).status_code == 200


def test_a_key_without_a_colon_works(tenant: Tenant) -> None:
    assert tenant.client.get(CUSTOMERS, headers=basic(tenant.key)).status_code == 200


def test_a_revoked_key_is_401(tenant: Tenant, database: Database) -> None:
    assert tenant.get(CUSTOMERS).status_code == 200

    database.write_sync(lambda c: accounts.revoke_api_key(c, tenant.account, tenant.key_ids[0]))

    assert status_within(lambda: tenant.get(CUSTOMERS), 401) == 401
    assert_error(tenant.get(CUSTOMERS), 401, 101)


def test_keys_are_stored_only_as_hashes(tenant: Tenant, database: Database) -> None:
    with database.engine.connect() as connection:
        stored = [
            str(value)
            for table in metadata.sorted_tables
            for row in connection.execute(sa.select(table))
            for value in row
        ]
    assert not [value for value in stored if tenant.key in value or tenant.key[3:] in value]
    assert accounts.hash_api_key(tenant.key) in stored


def test_a_key_scoped_to_a_customer_gets_403_on_customers(
    tenant: Tenant, database: Database
) -> None:
    customer = tenant.create_customer(name="Self-service")
    customer_path = f"{CUSTOMERS}/{customer['idfulfilment_customer']}"
    _, scoped = database.write_sync(
        lambda c: accounts.create_api_key(
            c, tenant.account, "own", customer["idfulfilment_customer"]
        )
    )
    auth = (scoped, "X")

    assert_error(tenant.client.get(CUSTOMERS, auth=auth), 403, 102)
    assert_error(tenant.client.post(CUSTOMERS, json={"name": "x"}, auth=auth), 403, 102)
    assert_error(tenant.client.get(customer_path, auth=auth), 403, 102)
    assert_error(tenant.client.put(customer_path, json={"name": "x"}, auth=auth), 403, 102)
    assert tenant.client.get(f"{API}/warehouses", auth=auth).status_code == 200
    assert tenant.get(customer_path).json()["name"] == "Self-service"


def test_another_accounts_customer_is_404_like_an_unknown_id(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = other_tenant.create_customer(name="Theirs", username="theirs")
    path = f"{CUSTOMERS}/{theirs['idfulfilment_customer']}"
    unknown = f"{CUSTOMERS}/{theirs['idfulfilment_customer'] + 1000}"

    for answer in (tenant.get(path), tenant.put(path, {"name": "Mine now"})):
        assert_error(answer, 404, 20)
    for answer in (tenant.get(unknown), tenant.put(unknown, {"name": "x"})):
        assert_error(answer, 404, 20)
    assert tenant.get(CUSTOMERS).json() == []
    assert tenant.get(CUSTOMERS, params={"search": "theirs"}).json() == []
    assert other_tenant.get(path).json()["name"] == "Theirs"


@pytest.mark.parametrize("raw_id", ["0", "99999999999999999999"])
def test_ids_that_cannot_exist_are_404(tenant: Tenant, raw_id: str) -> None:
    assert_error(tenant.get(f"{CUSTOMERS}/{raw_id}"), 404, 20)


@pytest.mark.parametrize("raw_id", ["-1", "abc", "1.0"])
def test_ids_that_are_no_number_are_unknown_paths(tenant: Tenant, raw_id: str) -> None:
    assert_error(tenant.get(f"{CUSTOMERS}/{raw_id}"), 404, 8)


def test_the_accounts_subdomain_selects_the_account(tenant: Tenant, other_tenant: Tenant) -> None:
    mine = tenant.create_customer(name="Mine")
    path = f"/api/v1/fulfilment/customers/{mine['idfulfilment_customer']}"

    own = tenant.client.get(f"http://acme.localhost:8000{path}", auth=tenant.auth)
    upper = tenant.client.get(f"http://ACME.example.com{path}", auth=tenant.auth)
    assert own.status_code == upper.status_code == 200
    assert own.json()["name"] == "Mine"

    wrong = tenant.client.get(f"http://globex.localhost:8000{path}", auth=tenant.auth)
    assert_error(wrong, 401, 101)
    theirs = other_tenant.client.get(
        f"http://acme.localhost:8000{CUSTOMERS}", auth=other_tenant.auth
    )
    assert_error(theirs, 401, 101)


@pytest.mark.parametrize(
    "host",
    ["localhost:8000", "127.0.0.1:8000", "nobody.localhost:8000", "[::1]:8000", "api.example.com"],
)
def test_other_hosts_serve_the_keys_own_account(tenant: Tenant, host: str) -> None:
    tenant.create_customer(name="Mine")

    answer = tenant.get(CUSTOMERS, headers={"Host": host})

    assert answer.status_code == 200
    assert [item["name"] for item in answer.json()] == ["Mine"]
