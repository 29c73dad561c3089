"""Real concurrent requests against a server with two workers lose nothing and break no rule."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import pytest

from tests.servers import Server, new_account, running_server

CUSTOMERS = "/api/v1/fulfilment/customers"


@pytest.fixture
def server(database_url: str) -> Any:
    env = {"FULFILMENT_DATABASE_URL": database_url, "FULFILMENT_RATE_LIMIT": "off"}
    key = new_account(env)
    with running_server(env, workers=2) as server:
        yield server, key


async def fire(
    server: Server, key: str, requests: list[tuple[str, str, Any]]
) -> list[httpx.Response]:
    """Send every request at once, each on its own connection."""
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
    async with httpx.AsyncClient(
        base_url=server.url, auth=(key, "X"), limits=limits, timeout=60
    ) as client:
        return await asyncio.gather(
            *(client.request(method, path, json=body) for method, path, body in requests)
        )


def test_fifty_creates_with_one_username_make_one_customer(server: Any) -> None:
    running, key = server
    requests = [("POST", CUSTOMERS, {"name": f"Racer {n}", "username": "racer"}) for n in range(50)]

    answers = asyncio.run(fire(running, key, requests))

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [400] * 49
    for answer in answers:
        if answer.status_code == 400:
            assert answer.json()["error_code"] == 5
            assert "username" in answer.json()["error_message"]
    listed = httpx.get(f"{running.url}{CUSTOMERS}", auth=(key, "X")).json()
    assert [c["username"] for c in listed] == ["racer"]


def test_two_hundred_concurrent_puts_revert_no_field(server: Any) -> None:
    running, key = server
    auth = (key, "X")
    warehouses = [
        w["idwarehouse"] for w in httpx.get(f"{running.url}/api/v1/warehouses", auth=auth).json()
    ]
    profiles = [
        p["idshippingprovider_profile"]
        for p in httpx.get(f"{running.url}/api/v1/shippingproviders", auth=auth).json()[0][
            "profiles"
        ]
    ]
    [template] = [
        t["idtemplate"] for t in httpx.get(f"{running.url}/api/v1/templates", auth=auth).json()
    ]
    initial = {
        "name": "Initial",
        "username": "initial",
        "emailaddress": "initial@example.com",
        "language": "nl",
        "idtemplate": None,
        "preferred_idwarehouse": None,
        "allowed_shipping_profiles": [],
    }
    created = httpx.post(f"{running.url}{CUSTOMERS}", json=initial, auth=auth).json()
    path = f"{CUSTOMERS}/{created['idfulfilment_customer']}"
    choices: dict[str, list[Any]] = {
        "name": [f"Name {n}" for n in range(40)],
        "username": [f"user{n}" for n in range(40)],
        "emailaddress": [f"a{n}@example.com" for n in range(40)],
        "language": ["en"],
        "idtemplate": [template],
        "preferred_idwarehouse": warehouses,
        "allowed_shipping_profiles": [[profiles[0]], [profiles[1]], profiles],
    }
    fields = list(choices)
    rng = random.Random(7)
    requests = []
    sent: dict[str, list[Any]] = {field: [] for field in fields}
    for n in range(200):
        field = fields[n % len(fields)]
        value = rng.choice(choices[field])
        sent[field].append(value)
        requests.append(("PUT", path, {field: value}))

    answers = asyncio.run(fire(running, key, requests))

    assert [a.status_code for a in answers] == [200] * 200, {
        a.text for a in answers if a.status_code != 200
    }
    final = httpx.get(f"{running.url}{path}", auth=auth).json()
    for field in fields:
        assert final[field] in sent[field], field
        assert final[field] != initial[field], field
    assert final["idfulfilment_customer"] == created["idfulfilment_customer"]


def test_concurrent_creates_get_unique_ids_in_order(server: Any) -> None:
    running, key = server
    requests = [("POST", CUSTOMERS, {"name": f"Parallel {n}"}) for n in range(60)]

    answers = asyncio.run(fire(running, key, requests))

    assert {a.status_code for a in answers} == {200}
    ids = [a.json()["idfulfilment_customer"] for a in answers]
    assert len(set(ids)) == 60
    listed = httpx.get(f"{running.url}{CUSTOMERS}", auth=(key, "X")).json()
    assert [c["idfulfilment_customer"] for c in listed] == sorted(ids)
