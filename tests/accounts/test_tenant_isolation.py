"""Tenant isolation, table-driven: every route and method, called with a key of another
account, a key scoped to one fulfilment customer, and a revoked key, gets exactly the
answer README.md gives ("Hosts", "Keys scoped to a fulfilment customer", the errors
table), and never shows or changes the first account's data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from fulfilment.accounts import service as accounts
from fulfilment.db import Database
from fulfilment.reference import service as reference
from tests.factories import API, CUSTOMERS, Tenant, as_json, stored_customers

# Written into every object of the first account; no answer to another key may hold it.
MARK = "acme-only"
UNKNOWN_ID = 987_654_321


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # {customer} and {warehouse} are filled with the first account's ids
    body: dict[str, Any] | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


CUSTOMER = f"{CUSTOMERS}/{{customer}}"
WAREHOUSE = f"{API}/warehouses/{{warehouse}}"
# The fulfilment customers resource: full keys only.
CUSTOMER_CALLS = [
    Call("GET", CUSTOMERS),
    Call("HEAD", CUSTOMERS),
    Call("POST", CUSTOMERS, {"name": "Made by the caller"}),
    Call("GET", CUSTOMER),
    Call("HEAD", CUSTOMER),
    Call("PUT", CUSTOMER, {"name": "Taken over", "username": "taken"}),
    Call("GET", f"{CUSTOMER}/history"),
    Call("HEAD", f"{CUSTOMER}/history"),
]
# Reference data: any key of the account, scoped ones included.
REFERENCE_CALLS = [
    Call(method, path)
    for path in (
        f"{API}/warehouses",
        WAREHOUSE,
        f"{API}/templates",
        f"{API}/shippingproviders",
    )
    for method in ("GET", "HEAD")
]
# Methods a path does not have: 405 for everyone, before any key is looked at.
NOT_ALLOWED = [
    Call(method, path, {"name": "x"})
    for path, methods in (
        (CUSTOMERS, ("PUT", "DELETE", "PATCH")),
        (CUSTOMER, ("POST", "DELETE", "PATCH")),
        (f"{CUSTOMER}/history", ("POST", "PUT", "DELETE")),
        (f"{API}/warehouses", ("POST", "PUT", "DELETE")),
        (WAREHOUSE, ("POST", "PUT", "DELETE")),
        (f"{API}/templates", ("POST", "DELETE")),
        (f"{API}/shippingproviders", ("POST", "DELETE")),
    )
    for method in methods
]
ALL_CALLS = CUSTOMER_CALLS + REFERENCE_CALLS + NOT_ALLOWED


@dataclass
class World:
    owner: Tenant
    other: Tenant
    scoped_key: str
    revoked_key: str
    customer: int
    warehouse: int

    def path(self, call: Call, customer: int | None = None, warehouse: int | None = None) -> str:
        return call.path.format(
            customer=customer or self.customer, warehouse=warehouse or self.warehouse
        )

    def send(self, call: Call, key: str, **ids: int) -> httpx.Response:
        return self.owner.client.request(
            call.method,
            self.path(call, **ids),
            content=as_json(call.body) if call.body is not None else None,
            auth=(key, "X"),
        )


@pytest.fixture
def world(tenant: Tenant, other_tenant: Tenant, database: Database) -> World:
    customer = tenant.create_customer(
        name=f"{MARK} customer", username=MARK, emailaddress=f"{MARK}@acme.example"
    )["idfulfilment_customer"]
    tenant.put(f"{CUSTOMERS}/{customer}", {"language": "en"})  # a second history event
    other_tenant.create_customer(name="Globex customer")

    async def build(connection: Any) -> tuple[int, str, str]:
        account = tenant.account
        warehouse = await reference.create_warehouse(connection, account.id, f"{MARK} warehouse")
        await reference.create_template(connection, account.id, f"{MARK} template")
        await reference.create_shipping_provider(
            connection, account.id, f"{MARK} post", "PostNL", [f"{MARK} profile"]
        )
        _, scoped = await accounts.create_api_key(connection, account, "customer's own", customer)
        revoked_id, revoked = await accounts.create_api_key(connection, account, "former")
        await accounts.revoke_api_key(connection, account, revoked_id)
        return warehouse.idwarehouse, scoped, revoked

    warehouse, scoped, revoked = database.write_sync(build)
    return World(tenant, other_tenant, scoped, revoked, customer, warehouse)


def error_of(answer: httpx.Response) -> tuple[int, int, str]:
    body = answer.json()
    assert set(body) == {"error", "error_code", "error_message"}, body
    assert body["error"] is True
    return answer.status_code, body["error_code"], body["error_message"]


def without_ids(message: str, *ids: int) -> str:
    for number in ids:
        message = re.sub(rf"\b{number}\b", "<id>", message)
    return message


def assert_error(answer: httpx.Response, call: Call, status: int, code: int) -> None:
    assert answer.status_code == status, f"{call}: {answer.status_code} {answer.text[:300]}"
    if call.method != "HEAD":
        assert error_of(answer)[:2] == (status, code), f"{call}: {answer.text[:300]}"


def assert_nothing_of(answer: httpx.Response, call: Call) -> None:
    assert MARK not in answer.text.lower(), f"{call} showed the first account's data"


@pytest.mark.parametrize("call", ALL_CALLS, ids=str)
def test_every_route_answers_each_kind_of_key_as_the_spec_says(
    world: World, database: Database, call: Call
) -> None:
    owner_key, other_key = world.owner.key, world.other.key
    own_answer = world.send(call, owner_key)
    mine_before = [world.send(Call("GET", CUSTOMER), owner_key).json()]
    stored_before = stored_customers(database)

    if call in NOT_ALLOWED:
        assert own_answer.status_code == 405
        for key in (other_key, world.scoped_key, world.revoked_key, "fk_unknown"):
            answer = world.send(call, key)
            assert_error(answer, call, 405, 8)
            assert answer.headers["allow"] == own_answer.headers["allow"]
            assert answer.json() == own_answer.json()
        assert stored_customers(database) == stored_before
        return

    # A revoked key is no key at all: 401 everywhere, nothing changed.
    assert_error(world.send(call, world.revoked_key), call, 401, 101)
    assert stored_customers(database) == stored_before

    # A key scoped to a fulfilment customer: 403 on the customers resource (history too),
    # the account's own reference data elsewhere.
    scoped = world.send(call, world.scoped_key)
    if call in CUSTOMER_CALLS:
        assert_error(scoped, call, 403, 102)
        assert stored_customers(database) == stored_before
    else:
        assert scoped.status_code == own_answer.status_code == 200, f"{call}: {scoped.text}"
        assert scoped.content == own_answer.content
        assert MARK in own_answer.text or call.method == "HEAD"

    # Another account's key: the first account's objects do not exist for it (404 exactly
    # like an unknown id); its lists and new objects are its own.
    other = world.send(call, other_key)
    assert_nothing_of(other, call)
    if "{customer}" in call.path or "{warehouse}" in call.path:
        unknown = world.send(call, other_key, customer=UNKNOWN_ID, warehouse=UNKNOWN_ID)
        assert_error(other, call, 404, 20)
        assert unknown.status_code == 404
        if call.method != "HEAD":
            status, code, message = error_of(other)
            unknown_status, unknown_code, unknown_message = error_of(unknown)
            assert (status, code) == (unknown_status, unknown_code)
            assert without_ids(message, world.customer, world.warehouse) == without_ids(
                unknown_message, UNKNOWN_ID
            )
    else:
        assert other.status_code == 200, f"{call}: {other.text}"
    assert [world.send(Call("GET", CUSTOMER), owner_key).json()] == mine_before
    if call.method == "POST":
        created = other.json()["idfulfilment_customer"]
        assert world.send(Call("GET", CUSTOMER), owner_key, customer=created).status_code == 404
        listed = world.send(Call("GET", CUSTOMERS), owner_key).json()
        assert created not in [item["idfulfilment_customer"] for item in listed]
