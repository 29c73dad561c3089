"""Examples in the OpenAPI document: one per object, placed on every operation that takes or
answers it, so the console at /docs shows a request and an answer for each (a test checks
each against its schema)."""

from __future__ import annotations

from collections.abc import Mapping

from .fields import LIST_FIELDS, OUTPUT_FIELDS, Field
from .openapi_parts import member


def _every_field(example: Mapping[str, object], fields: tuple[Field, ...]) -> dict[str, object]:
    """`example` with every field of `fields`, in their order: a field it does not show
    (a new one) has its default, null where it may be."""
    return {f.name: example.get(f.name, None if f.nullable else f.default) for f in fields}


_CUSTOMER = _every_field(
    {
        "idfulfilment_customer": 12,
        "name": "Tulip Trading Ltd",
        "can_login": True,
        "username": "tuliptrading",
        "emailaddress": "orders@tuliptrading.example",
        "language": "en",
        "idtemplate": 1,
        "last_login_at": "2026-12-03 09:41:07",
        "allowed_shipping_profiles": [2, 1],
        "preferred_idwarehouse": 1,
    },
    OUTPUT_FIELDS,
)
_HOOK = {
    "idhook": 3,
    "name": "CRM sync",
    "event": "fulfilment_customers.changed",
    "address": "https://crm.example/hooks/fulfilment",
    "active": True,
    "secret": True,
    "created_at": "2026-12-01 14:02:55",
    "updated_at": "2026-12-01 14:02:55",
}

# schema name -> an example of it
OBJECTS: dict[str, object] = {
    "Customer": _CUSTOMER,
    "CustomerListItem": _every_field(_CUSTOMER, LIST_FIELDS),
    "CustomerCreate": {
        "name": "Tulip Trading Ltd",
        "can_login": True,
        "username": "tuliptrading",
        "password": "a long portal password",
        "emailaddress": "orders@tuliptrading.example",
        "language": "en",
        "idtemplate": 1,
        "allowed_shipping_profiles": [2, 1],
        "preferred_idwarehouse": 1,
    },
    "CustomerUpdate": {"emailaddress": "logistics@tuliptrading.example", "language": "nl"},
    "AuditEvent": {
        "id": 41,
        "action": "update",
        "occurred_at": "2026-12-03 10:15:00",
        "actor": {"type": "staff", "id": 2, "name": "anna"},
        "changes": {
            "emailaddress": {
                "from": "orders@tuliptrading.example",
                "to": "logistics@tuliptrading.example",
            },
            "password": "changed",
        },
    },
    "Warehouse": {
        "idwarehouse": 1,
        "name": "Main warehouse",
        "accept_orders": True,
        "counts_for_general_stock": True,
        "priority": 1,
        "active": True,
    },
    "Template": {"idtemplate": 1, "name": "Default packing slip", "default": True},
    "ShippingProvider": {
        "idshippingprovider": 1,
        "name": "PostNL",
        "provider": "PostNL",
        "active": True,
        "profiles": [
            {"idshippingprovider_profile": 1, "name": "Standard parcel", "active": True},
            {"idshippingprovider_profile": 2, "name": "Signature on delivery", "active": True},
        ],
    },
    "User": {
        "iduser": 2,
        "username": "anna",
        "firstname": "Anna",
        "lastname": "de Vries",
        "emailaddress": "anna@warehouse.example",
        "language": "nl",
        "admin": True,
        "active": True,
        "last_login_at": "2026-12-03 08:30:12",
        "created_at": "2026-11-27 16:00:00",
        "updated_at": "2026-12-01 11:20:45",
    },
    "Hook": _HOOK,
    "HookCreate": {
        "name": "CRM sync",
        "event": "fulfilment_customers.changed",
        "address": "https://crm.example/hooks/fulfilment",
        "secret": "a secret of at least some length",
    },
    "HookUpdate": {"address": "https://crm.example/hooks/fulfilment-v2"},
    "HookDelivery": {
        "iddelivery": 57,
        "webhook_id": "msg_2f0c3e8b6a1d4c6e9b7a5d3c1e0f9a8b",
        "event": "fulfilment_customers.changed",
        "event_triggered_at": "2026-12-03 10:15:00",
        "state": "delivered",
        "next_attempt_at": None,
        "attempts": [
            {
                "attempted_at": "2026-12-03 10:15:06",
                "status": 200,
                "duration_ms": 84,
                "error": None,
                "response": "ok",
            },
            {
                "attempted_at": "2026-12-03 10:15:00",
                "status": 503,
                "duration_ms": 12,
                "error": "The receiver answered 503.",
                "response": "busy",
            },
        ],
    },
    "HookPayload": {
        "idhook": 3,
        "name": "CRM sync",
        "event": "fulfilment_customers.changed",
        "event_triggered_at": "2026-12-03 10:15:00",
        "data": _CUSTOMER,
    },
}

# status -> an error body that status answers with
ERRORS = {
    400: (5, "language has an unknown value 'de'."),
    401: (101, "Unknown or revoked API key."),
    403: (102, "This API key belongs to a fulfilment customer and may not use this."),
    404: (20, "Fulfilment customer 999 not found."),
    405: (8, "DELETE is not allowed here; use GET, HEAD, PUT."),
    408: (105, "The request body stopped arriving: no part of it came for 10 seconds."),
    413: (103, "The request body is larger than 1048576 bytes."),
    429: (28, "Rate limit of 500 per 1 minute exceeded; retry in 12 seconds."),
    431: (106, "The request's headers add up to more than 65536 bytes."),
    500: (1, "Internal server error."),
    503: (104, "The database cannot be reached right now."),
}


def error_example(status: int) -> dict[str, object]:
    code, message = ERRORS[status]
    return {"error": True, "error_code": code, "error_message": message}


def _example_of(schema: dict[str, object]) -> object:
    """The example for a schema: an object's, or a list of one for an array of them."""
    if schema.get("type") == "array":
        return [_example_of(member(schema, "items"))]
    name = schema["$ref"]
    assert isinstance(name, str)
    return OBJECTS[name.rsplit("/", 1)[1]]


def _add_to_content(part: dict[str, object]) -> None:
    """The example beside the JSON schema of `part`'s content, where it has one."""
    content = part.get("content", {})
    assert isinstance(content, dict)
    media = content.get("application/json")
    if media is not None and "$ref" in str(media.get("schema")):
        media["example"] = _example_of(member(media, "schema"))


def add_examples(document: dict[str, object]) -> None:
    """An example on every request body and answer of every operation and webhook, and on
    each error answer."""
    webhooks = member(document, "webhooks") if "webhooks" in document else {}
    for item in (*member(document, "paths").values(), *webhooks.values()):
        for method, operation in member(item).items():
            if method == "parameters":
                continue
            body = member(operation, "requestBody") if "requestBody" in member(operation) else {}
            _add_to_content(body)
            _add_to_content(member(operation, "responses", "200"))
    for name, response in member(document, "components", "responses").items():
        status = int(name.removeprefix("Error"))
        member(response, "content", "application/json")["example"] = error_example(status)
