"""Paths and methods that do not exist, and errors nobody expected, in the wire format."""

from __future__ import annotations

import logging

import pytest

from fulfilment.customers import service
from fulfilment.errors import UNKNOWN_ERROR
from tests.factories import API, CUSTOMERS, Tenant, metric

ROUTE = "/api/v1/fulfilment/customers/{idfulfilment_customer}"


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


def test_an_unexpected_error_is_500_in_the_wire_format_logged_and_counted(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    customer = tenant.create_customer(name="Kept")
    path = f"{CUSTOMERS}/{customer['idfulfilment_customer']}"

    async def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(service, "get_customer", broken)
    before = tenant.client.get("/metrics").text
    with caplog.at_level(logging.ERROR, logger="fulfilment"):
        answer = tenant.get(path)

    assert answer.status_code == 500
    assert answer.json() == {
        "error": True,
        "error_code": UNKNOWN_ERROR,
        "error_message": "Internal server error.",
    }
    assert answer.headers["x-request-id"]
    [record] = [r for r in caplog.records if r.getMessage() == f"unhandled error on GET {path}"]
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)
    labels = {"method": "GET", "route": ROUTE, "status": "500"}
    assert counted(before, tenant.client.get("/metrics").text, labels) == 1


def test_a_database_that_fails_is_503_and_the_next_request_is_served(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = tenant.create_customer(name="Kept")
    path = f"{CUSTOMERS}/{customer['idfulfilment_customer']}"
    database = tenant.client.app.state.database  # type: ignore[attr-defined]
    failing = database.dialect.loaded_dbapi.OperationalError
    original = service.get_customer

    async def unavailable(*args: object) -> None:
        raise failing("the server closed the connection")

    monkeypatch.setattr(service, "get_customer", unavailable)
    answer = tenant.get(path)
    monkeypatch.setattr(service, "get_customer", original)

    assert answer.status_code == 503
    assert answer.json()["error_message"] == "The database cannot be reached right now."
    assert tenant.get(path).json()["name"] == "Kept"


def test_head_answers_as_get_without_the_body(tenant: Tenant) -> None:
    customer = tenant.create_customer(name="Kept")
    path = f"{CUSTOMERS}/{customer['idfulfilment_customer']}"

    got = tenant.get(path)
    head = tenant.client.head(path, auth=tenant.auth)

    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == got.headers["content-length"]
    assert head.headers["x-ratelimit-limit"] == got.headers["x-ratelimit-limit"]


def test_a_method_a_path_lacks_is_counted_under_its_route(tenant: Tenant) -> None:
    before = tenant.client.get("/metrics").text
    tenant.client.delete(f"{CUSTOMERS}/1", auth=tenant.auth)

    labels = {"method": "DELETE", "route": ROUTE, "status": "405"}
    assert counted(before, tenant.client.get("/metrics").text, labels) == 1


def counted(before: str, after: str, labels: dict[str, str]) -> float:
    name = "fulfilment_http_requests_total"
    return metric(after, name, **labels) - metric(before, name, **labels)
