"""The OpenAPI document and the docs page describe what the service really does."""

from __future__ import annotations

import re

import msgspec
from openapi_spec_validator import validate
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from fulfilment.customers.schemas import CustomerCreate, CustomerUpdate
from fulfilment.openapi import _STRUCTS
from tests.factories import CUSTOMERS, Tenant


def test_the_document_is_valid_openapi_3_1(client: TestClient) -> None:
    answer = client.get("/api/v1/openapi.json")

    assert answer.status_code == 200
    document = answer.json()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_api_route_and_method_is_documented(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    [mount] = [route for route in client.app.routes if isinstance(route, Mount)]  # type: ignore[attr-defined]
    served = {
        (mount.path + route.path, method.lower())
        for route in mount.routes
        if isinstance(route, Route) and not route.path.endswith("openapi.json")
        for method in (route.methods or ())
        if method != "HEAD"
    }
    documented = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert served == documented


def test_schemas_come_from_the_validating_structs(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    _, expected = msgspec.json.schema_components(
        _STRUCTS, ref_template="#/components/schemas/{name}"
    )

    assert document["components"]["schemas"] == msgspec.json.decode(msgspec.json.encode(expected))
    create = document["components"]["schemas"]["CustomerCreate"]
    assert create["required"] == ["name"]
    assert set(create["properties"]) == set(CustomerCreate.__struct_fields__)
    assert set(document["components"]["schemas"]["CustomerUpdate"]["properties"]) == set(
        CustomerUpdate.__struct_fields__
    )
    assert create["properties"]["password"]["minLength"] == 8


def test_answers_match_their_documented_schema(tenant: Tenant) -> None:
    """A crude schema check: every documented field is present and no other."""
    document = tenant.client.get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    created = tenant.create_customer(name="Documented")

    assert set(created) == set(schemas["Customer"]["properties"])
    [item] = tenant.get(CUSTOMERS).json()
    assert set(item) == set(schemas["CustomerListItem"]["properties"])
    error = tenant.post(CUSTOMERS, {}).json()
    assert set(error) == set(schemas["ErrorBody"]["properties"])


def test_the_docs_page_is_self_contained(client: TestClient) -> None:
    page = client.get("/docs")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    for path in client.get("/api/v1/openapi.json").json()["paths"]:
        assert path in html
    assert "error_code" in html
    assets = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert assets
    assert not [asset for asset in assets if re.match(r"^(https?:)?//", asset)]
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert client.get("/docs/docs.css").headers["content-type"].startswith("text/css")
