"""The OpenAPI 3.1 document, generated from the same msgspec structs that validate requests."""

from __future__ import annotations

import functools
import re

import msgspec

from . import __version__
from .customers.schemas import (
    AuditEvent,
    Customer,
    CustomerCreate,
    CustomerListItem,
    CustomerUpdate,
)
from .errors import ERROR_TABLE, ErrorBody
from .fields import EMAIL, WRITABLE_FIELDS, is_unshowable
from .hooks import openapi as hooks
from .hooks.schemas import Hook, HookCreate, HookDelivery, HookPayload, HookUpdate
from .openapi_examples import add_examples
from .openapi_parts import (
    OFFSET,
    SEARCH,
    answers,
    errors,
    json_answer,
    list_of,
    member,
    path_id,
    ref,
)
from .reference.schemas import ShippingProvider, Template, Warehouse
from .staff.schemas import User

_STRUCTS = (
    Customer,
    CustomerListItem,
    CustomerCreate,
    CustomerUpdate,
    AuditEvent,
    Warehouse,
    Template,
    ShippingProvider,
    User,
    Hook,
    HookCreate,
    HookUpdate,
    HookDelivery,
    HookPayload,
    ErrorBody,
)


def _character_ranges(characters: list[str]) -> str:
    """`\\u0009-\\u000d\\u0020...`: a class body both regex dialects read alike."""
    codes = sorted(map(ord, characters))
    ranges: list[list[int]] = []
    for code in codes:
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(
        f"\\u{low:04x}" if low == high else f"\\u{low:04x}-\\u{high:04x}" for low, high in ranges
    )


# What no e-mail address may hold: Python's `\s` (str.isspace, all below U+3001), spelled
# out because JSON Schema's `\s` (ECMA-262's) is another set, and every character of the
# basic plane that fields.check_email refuses as control or invisible (surrogates among
# them, so an ECMA-262 pattern without the `u` flag also refuses every astral character).
_NOT_IN_ADDRESS = _character_ranges(
    sorted(
        {*re.findall(r"\s", "".join(map(chr, range(0x3001))))}
        | {chr(code) for code in range(0x10000) if is_unshowable(chr(code))}
    )
)


def email_pattern() -> str:
    """The service's e-mail rule (fields.EMAIL) as a JSON Schema pattern that
    reads the same in ECMA-262 and in Python, so that no address the schema allows is
    refused: `\\s` spelled out, and the end of the text as `(?![\\s\\S])`, since a Python
    `$` allows a newline before it."""
    core = EMAIL.pattern.removeprefix("^").removeprefix("\\A")
    core = core.removesuffix("\\Z").removesuffix("$")
    return "^(?:" + core.replace("\\s", _NOT_IN_ADDRESS) + ")(?![\\s\\S])"


def _with_email_rule(components: dict[str, object]) -> None:
    """The e-mail pattern on every e-mail field of a request body."""
    pattern = email_pattern()
    for struct in (CustomerCreate, CustomerUpdate):
        for field in WRITABLE_FIELDS:
            if field.kind != "email":
                continue
            choices = member(components, struct.__name__, "properties", field.name)["anyOf"]
            assert isinstance(choices, list)
            for choice in choices:
                if choice.get("type") == "string":
                    choice["pattern"] = pattern


_ACTIVE: dict[str, object] = {
    "name": "active",
    "in": "query",
    "required": False,
    "description": "`true`: only active staff users; `false`: only inactive ones; absent: all.",
    "schema": {"type": "string", "enum": ["true", "false", "1", "0", ""]},
}


def _users_paths() -> dict[str, object]:
    """The read-only users API: the account's staff users (the back office's people)."""
    tags = ["Users"]
    return {
        "/api/v1/users": {
            "get": {
                "operationId": "listUsers",
                "summary": "List staff users",
                "tags": tags,
                "parameters": [OFFSET, _ACTIVE],
                "responses": answers(
                    json_answer(list_of("User"), "A page, ordered by id."), 400, 401, 403, 429
                ),
            }
        },
        "/api/v1/users/me": {
            "get": {
                "operationId": "getCurrentUser",
                "summary": "The staff user who created the API key in use",
                "description": "404 for a key created on the command line.",
                "tags": tags,
                "responses": answers(json_answer(ref("User"), "The user."), 401, 403, 404, 429),
            }
        },
        "/api/v1/users/{iduser}": {
            "parameters": [path_id("iduser")],
            "get": {
                "operationId": "getUser",
                "summary": "Get one staff user",
                "tags": tags,
                "responses": answers(json_answer(ref("User"), "The user."), 401, 403, 404, 429),
            },
        },
    }


@functools.cache
def build_openapi() -> dict[str, object]:
    """The OpenAPI document, built once per process: every app of the process serves it."""
    _, components = msgspec.json.schema_components(
        _STRUCTS, ref_template="#/components/schemas/{name}"
    )
    _with_email_rule(components)
    read_errors = (401, 403, 404, 429)
    write_errors = (400, 401, 403, 404, 413, 429)
    customers_path = "/api/v1/fulfilment/customers"
    paths: dict[str, object] = {
        customers_path: {
            "get": {
                "operationId": "listFulfilmentCustomers",
                "summary": "List fulfilment customers",
                "tags": ["Fulfilment customers"],
                "parameters": [OFFSET, SEARCH],
                "responses": answers(
                    json_answer(list_of("CustomerListItem"), "A page, ordered by id."),
                    400,
                    401,
                    403,
                    429,
                ),
            },
            "post": {
                "operationId": "createFulfilmentCustomer",
                "summary": "Create a fulfilment customer",
                "tags": ["Fulfilment customers"],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref("CustomerCreate")}},
                },
                "responses": {
                    "200": {
                        **json_answer(ref("Customer"), "The new customer."),
                        "links": {
                            "GetCreatedCustomer": {
                                "operationId": "getFulfilmentCustomer",
                                "parameters": {
                                    "idfulfilment_customer": "$response.body#/idfulfilment_customer"
                                },
                            },
                            "UpdateCreatedCustomer": {
                                "operationId": "updateFulfilmentCustomer",
                                "parameters": {
                                    "idfulfilment_customer": "$response.body#/idfulfilment_customer"
                                },
                            },
                        },
                    },
                    **errors(*write_errors),
                },
            },
        },
        customers_path + "/{idfulfilment_customer}": {
            "parameters": [path_id("idfulfilment_customer")],
            "get": {
                "operationId": "getFulfilmentCustomer",
                "summary": "Get one fulfilment customer",
                "tags": ["Fulfilment customers"],
                "responses": answers(json_answer(ref("Customer"), "The customer."), *read_errors),
            },
            "put": {
                "operationId": "updateFulfilmentCustomer",
                "summary": "Update a fulfilment customer (only the fields sent)",
                "tags": ["Fulfilment customers"],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref("CustomerUpdate")}},
                },
                "responses": answers(
                    json_answer(ref("Customer"), "The updated customer."), *write_errors
                ),
            },
        },
        customers_path + "/{idfulfilment_customer}/history": {
            "parameters": [path_id("idfulfilment_customer")],
            "get": {
                "operationId": "getFulfilmentCustomerHistory",
                "summary": "The audit trail of a fulfilment customer, oldest first",
                "description": (
                    "Every create, update and portal login. `changes` maps each changed "
                    'field to `{"from": old, "to": new}`; a password appears only as '
                    '`"changed"`.'
                ),
                "tags": ["Fulfilment customers"],
                "parameters": [OFFSET],
                "responses": answers(
                    json_answer(list_of("AuditEvent"), "A page of events, by id."),
                    400,
                    401,
                    403,
                    404,
                    429,
                ),
            },
        },
        "/api/v1/warehouses": {
            "get": {
                "operationId": "listWarehouses",
                "summary": "List warehouses",
                "tags": ["Reference data"],
                "parameters": [OFFSET],
                "responses": answers(
                    json_answer(list_of("Warehouse"), "A page, ordered by id."), 400, 401, 429
                ),
            }
        },
        "/api/v1/warehouses/{idwarehouse}": {
            "parameters": [path_id("idwarehouse")],
            "get": {
                "operationId": "getWarehouse",
                "summary": "Get one warehouse",
                "tags": ["Reference data"],
                "responses": answers(
                    json_answer(ref("Warehouse"), "The warehouse."), 401, 404, 429
                ),
            },
        },
        "/api/v1/templates": {
            "get": {
                "operationId": "listTemplates",
                "summary": "List templates",
                "tags": ["Reference data"],
                "parameters": [OFFSET],
                "responses": answers(
                    json_answer(list_of("Template"), "A page, ordered by id."), 400, 401, 429
                ),
            }
        },
        "/api/v1/shippingproviders": {
            "get": {
                "operationId": "listShippingProviders",
                "summary": "List shipping providers and their profiles",
                "tags": ["Reference data"],
                "parameters": [OFFSET],
                "responses": answers(
                    json_answer(list_of("ShippingProvider"), "A page, ordered by id."),
                    400,
                    401,
                    429,
                ),
            }
        },
        **_users_paths(),
    }
    paths.update(hooks.paths())
    error_responses: dict[str, object] = {}
    for status in sorted({status for status, _, _ in ERROR_TABLE}):
        codes = "; ".join(
            f"error_code {code}: {when}" for s, code, when in ERROR_TABLE if s == status
        )
        error_responses[f"Error{status}"] = json_answer(ref("ErrorBody"), codes)
    document: dict[str, object] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Fulfilment customers API",
            "version": __version__,
            "description": (
                "Manage the fulfilment customers of a 3PL warehouse, wire-compatible with the "
                "hosted warehouse system's API. Authenticate with HTTP Basic: the API key is "
                "the username, the password is ignored. Lists are bare JSON arrays of at most "
                "100 objects; page with `offset`. Date-times are `YYYY-MM-DD HH:MM:SS` in the "
                "account's time zone. Every error answers with the same body: "
                '`{"error": true, "error_code": <int>, "error_message": "..."}`.'
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}],
        "paths": paths,
        "webhooks": hooks.webhooks(),
        "components": {
            "schemas": components,
            "responses": error_responses,
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "The API key as the username; any password.",
                }
            },
        },
    }
    _with_answer_headers(paths)
    add_examples(document)
    return document


ANSWER_HEADERS = {
    "X-Time-Zone": {
        "description": (
            "The account's time zone (an IANA name such as `Europe/Amsterdam`): the one "
            "every date-time of the answer is in."
        ),
        "schema": {"type": "string"},
    },
    "X-RateLimit-Limit": {
        "description": "Requests this API key may make in the rate limit's window.",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left in the current window.",
        "schema": {"type": "integer"},
    },
}


def _with_answer_headers(paths: dict[str, object]) -> None:
    """The headers every successful answer carries (the rate limit's while one is set)."""
    for path in paths:
        for method, operation in member(paths, path).items():
            if method != "parameters":
                member(operation, "responses", "200")["headers"] = ANSWER_HEADERS
