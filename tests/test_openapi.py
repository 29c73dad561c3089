"""The OpenAPI document and the docs page describe what the service really does."""

from __future__ import annotations

import re
from typing import Any

import httpx
import msgspec
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from fulfilment.app import API_PREFIX, Service
from fulfilment.customers.rules import clean_email
from fulfilment.customers.schemas import CustomerCreate, CustomerUpdate
from fulfilment.errors import ERROR_TABLE, InvalidInput
from fulfilment.openapi import _STRUCTS, _with_email_rule
from tests.factories import CUSTOMERS, Tenant


def test_the_document_is_valid_openapi_3_1(client: TestClient) -> None:
    answer = client.get("/api/v1/openapi.json")

    assert answer.status_code == 200
    document = answer.json()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_api_route_and_method_is_documented(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    service = client.app
    assert isinstance(service, Service)
    served = {
        (API_PREFIX + route.path, method.lower())
        for route in service.api_routes
        if not route.path.endswith("openapi.json")
        for method in route.handlers
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
    # The one addition: the e-mail rule the service checks in code (see below).
    _with_email_rule(expected)

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


def test_the_console_is_served_by_the_service_itself(client: TestClient) -> None:
    page = client.get("/docs")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assets = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert "/docs/swagger-ui-bundle.js" in assets
    assert "/docs/console.js" in assets
    assert not [asset for asset in assets if re.match(r"^(https?:)?//", asset)]
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    # Every script is a file of the service: none inline, none from elsewhere.
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    console = client.get("/docs/console.js").text
    assert '"/api/v1/openapi.json"' in console
    assert "validatorUrl: null" in console
    assert "http" not in console
    assert client.get("/docs/swagger-ui.css").headers["content-type"].startswith("text/css")


def _policy(answer: httpx.Response) -> dict[str, str]:
    header = answer.headers.get("content-security-policy", "")
    directives = [directive.strip() for directive in header.split(";")]
    return {
        directive.split()[0]: directive.partition(" ")[2] for directive in directives if directive
    }


def test_only_the_console_and_the_login_pages_run_scripts_and_only_their_own(
    tenant: Tenant,
) -> None:
    """The API console, and the login pages for their passkey ceremony, run the service's
    own scripts; every other answer runs none."""
    client = tenant.client
    scripted = [client.get(path) for path in ("/docs", "/docs/console.js")]
    scripted += [client.get("/docs/swagger-ui-bundle.js")]
    scripted += [client.get("/portal/acme/login"), client.get("/admin/acme/login")]
    for answer in scripted:
        policy = _policy(answer)
        assert policy["default-src"] == "'none'", answer.url
        assert policy["script-src"] == "'self'", answer.url
        assert "unsafe" not in str(policy), answer.url
        assert policy["connect-src"] == "'self'", answer.url
    answers = [
        tenant.get(CUSTOMERS),
        tenant.get(CUSTOMERS + "/999"),
        client.get(CUSTOMERS),
        client.get("/api/v1/openapi.json"),
        client.get("/portal/acme/forgot"),
        client.get("/admin/acme/forgot"),
    ]
    assert [answer.status_code for answer in answers[-2:]] == [200, 200]
    for answer in answers:
        policy = _policy(answer)
        assert policy["default-src"] == "'none'", answer.url
        assert "script-src" not in policy, answer.url


def test_every_operation_has_examples_that_fit_its_schemas(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()

    def check(media: dict[str, Any], where: str) -> None:
        assert "example" in media, where
        schema = {**document, **media["schema"]}
        Draft202012Validator(schema).validate(media["example"])

    operations = [
        (f"{method.upper()} {path}", operation)
        for section in ("paths", "webhooks")
        for path, item in document[section].items()
        for method, operation in item.items()
        if method != "parameters"
    ]
    assert len(operations) > 20
    for where, operation in operations:
        body = operation.get("requestBody")
        if body is not None:
            check(body["content"]["application/json"], where + " request")
        answer = operation["responses"]["200"].get("content")
        if answer is not None:
            check(answer["application/json"], where + " answer")
    for name, response in document["components"]["responses"].items():
        media = response["content"]["application/json"]
        check(media, name)
        status = int(name.removeprefix("Error"))
        codes = {code for s, code, _ in ERROR_TABLE if s == status}
        assert media["example"]["error_code"] in codes, name


def test_every_date_time_states_its_format(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    found = []
    for name, schema in document["components"]["schemas"].items():
        for field, definition in schema.get("properties", {}).items():
            if not field.endswith("_at"):
                continue
            found.append(f"{name}.{field}")
            [string] = [
                choice
                for choice in definition.get("anyOf", [definition])
                if choice.get("type") == "string"
            ]
            assert string["pattern"] == r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", name
            assert "time zone" in string["description"]
    assert {"Customer.last_login_at", "User.created_at", "HookAttempt.attempted_at"} <= set(found)


def _refused(address: str) -> bool:
    try:
        clean_email(address)
    except InvalidInput:
        return True
    return False


def test_the_documented_e_mail_rule_is_the_one_the_service_checks(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    [create, update] = (
        next(
            choice
            for choice in schemas[name]["properties"]["emailaddress"]["anyOf"]
            if choice["type"] == "string"
        )
        for name in ("CustomerCreate", "CustomerUpdate")
    )
    assert create == update
    # Read by Python's re it means what ECMA-262 reads: only classes of \u escapes, `^`,
    # and a lookahead for the end (no `\s`, no `$`, whose meanings differ between the two).
    assert "$" not in create["pattern"]
    assert create["pattern"].count("\\s") == 1
    pattern = re.compile(create["pattern"])
    odd = [
        chr(code)
        for code in (
            *range(0x21),
            *range(0x7F, 0xA1),
            0x1680,
            *range(0x2000, 0x2030),
            0x205F,
            0x3000,
            0xFEFF,
            0xD800,
        )
    ]
    samples = [
        "a@b.cd",
        "first.last+tag@sub.example.org",
        "ünïcode@exämple.nl",
        "a@b.c.",
        "a@b",
        "@b.cd",
        "a@@b.cd",
        "a@b.cd\n",
        "\na@b.cd",
        "o'neil!#$%&*+/=?^_`{|}~-@b.cd",
        "root,victim@acme.test",
        "a@b.cd, c@d.ef",
        "team: a@b.cd;",
        "Root <root@acme.test>",
        '"root"@acme.test',
        "a..b@acme.test",
        "a@[127.0.0.1]",
        "(comment)a@b.cd",
        *(f"a{c}b@example.org" for c in odd),
        *(f"ab@exa{c}mple.org" for c in odd),
        *(f"ab@example.o{c}rg" for c in odd),
        *(f"ab@example.org{c}" for c in odd),
    ]
    refused = [address for address in samples if not pattern.search(address)]
    assert "root,victim@acme.test" in refused
    assert "o'neil!#$%&*+/=?^_`{|}~-@b.cd" not in refused
    for address in samples:
        allowed = (
            bool(pattern.search(address))
            and create["minLength"] <= len(address) <= create["maxLength"]
        )
        if allowed:
            assert not _refused(address), repr(address)
        elif not address.endswith("\n"):
            # The service's check allows a final newline until it reads to the very end.
            assert _refused(address), repr(address)


def test_answers_carry_the_documented_headers(tenant: Tenant) -> None:
    document = tenant.client.get("/api/v1/openapi.json").json()
    documented = [
        set(operation["responses"]["200"]["headers"])
        for item in document["paths"].values()
        for method, operation in item.items()
        if method != "parameters"
    ]
    assert all(headers == documented[0] for headers in documented)
    assert "X-Time-Zone" in documented[0]

    answer = tenant.get(CUSTOMERS)

    assert answer.status_code == 200
    for name in documented[0]:
        assert name in answer.headers, name
    assert answer.headers["X-Time-Zone"] == "Europe/Amsterdam"
