"""The benchmark harness's pieces: the bulk fill, and a baseline that answers the same bytes
as the service, so that the ratios compare like with like."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bench import async_baseline, baseline
from bench.fill import COMMON_WORD, LOGIN_USERNAME, Filled, customer_name, fill
from starlette.testclient import TestClient

from fulfilment.app import create_app
from fulfilment.settings import Settings

CUSTOMERS = "/api/v1/fulfilment/customers"


@pytest.fixture
def filled(database_url: str) -> Filled:
    return fill(database_url, 250)


@pytest.fixture
def service(settings: Settings, filled: Filled) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        client.auth = (filled.api_key, "X")
        yield client


@pytest.fixture
def ceiling(filled: Filled) -> Iterator[TestClient]:
    with TestClient(baseline.create_app(filled.url, filled.account_id)) as client:
        yield client


def test_fill_writes_what_the_api_would(service: TestClient, filled: Filled) -> None:
    assert filled.last_id - filled.first_id + 1 == 250
    page = service.get(CUSTOMERS, params={"offset": 200}).json()
    assert [c["name"] for c in page] == [customer_name(n) for n in range(201, 251)]
    tagged = service.get(CUSTOMERS, params={"search": COMMON_WORD.upper()}).json()
    assert [c["name"] for c in tagged] == [customer_name(n) for n in (50, 150, 250)]
    found = service.get(CUSTOMERS, params={"search": "CUSTOMER249@EXAMPLE"}).json()
    assert [c["name"] for c in found] == ["Customer 249"]
    assert service.get(CUSTOMERS, params={"search": LOGIN_USERNAME}).json()[0]["can_login"]
    created = service.post(CUSTOMERS, json={"name": "New"}).json()
    assert service.get(CUSTOMERS, params={"offset": 250}).json()[0] == {
        k: v for k, v in created.items() if k != "allowed_shipping_profiles"
    }


@pytest.mark.parametrize("path", ["/{first}", "/{last}", "?offset=0", "?offset=150", "?offset=900"])
def test_baseline_reads_the_same_bytes(
    service: TestClient, ceiling: TestClient, filled: Filled, path: str
) -> None:
    url = CUSTOMERS + path.format(first=filled.first_id, last=filled.last_id)
    ours, theirs = service.get(url), ceiling.get(url)
    assert ours.status_code == theirs.status_code == 200
    assert ours.content == theirs.content
    assert ours.headers["content-type"] == theirs.headers["content-type"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("path", ["/{first}", "/{last}", "?offset=0", "?offset=150"])
def test_async_baseline_reads_the_same_bytes(
    service: TestClient, filled: Filled, path: str
) -> None:
    url = CUSTOMERS + path.format(first=filled.first_id, last=filled.last_id)
    app = async_baseline.create_app(filled.url, filled.account_id, pool_size=2)
    with TestClient(app) as ceiling:
        ours, theirs = service.get(url), ceiling.get(url)
    assert ours.status_code == theirs.status_code == 200
    assert ours.content == theirs.content
    assert ours.headers["content-type"] == theirs.headers["content-type"]


def test_second_tenant_is_apart(settings: Settings, filled: Filled) -> None:
    small = filled.second
    assert small.account_id != filled.account_id
    assert small.last_id - small.first_id + 1 == small.customers
    with TestClient(create_app(settings)) as client:
        client.auth = (small.api_key, "X")
        assert client.get(f"{CUSTOMERS}/{small.first_id}").json()["name"] == "Customer 1"
        assert client.get(f"{CUSTOMERS}/{filled.first_id}").status_code == 404
        found = client.get(CUSTOMERS, params={"search": COMMON_WORD}).json()
    assert [c["idfulfilment_customer"] for c in found] == [
        small.first_id + n - 1 for n in range(50, small.customers + 1, 100)
    ]


def _without_id(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "idfulfilment_customer"}


def test_baseline_writes_the_same_answers(
    service: TestClient, ceiling: TestClient, filled: Filled
) -> None:
    body = {"name": "Bench customer", "emailaddress": "bench@example.com", "language": "en"}
    ours, theirs = service.post(CUSTOMERS, json=body), ceiling.post(CUSTOMERS, json=body)
    assert _without_id(ours.json()) == _without_id(theirs.json())
    assert theirs.json()["idfulfilment_customer"] == ours.json()["idfulfilment_customer"] + 1
    url = f"{CUSTOMERS}/{filled.first_id + 7}"
    theirs = ceiling.put(url, json={"name": "Renamed"})
    ours = service.put(url, json={"name": "Renamed again"})
    assert theirs.content.replace(b"Renamed", b"Renamed again") == ours.content
    found = service.get(CUSTOMERS, params={"search": "renamed again"}).json()
    assert [c["idfulfilment_customer"] for c in found] == [filled.first_id + 7]
