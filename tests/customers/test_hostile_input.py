"""Bad bytes in bodies and headers: each gets a clean 4xx wire error and changes nothing.
What HTTP framing itself must survive (cut-off bodies, huge headers) is tested against a
real server in tests/server/test_hostile_http.py."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fulfilment.db import Database
from tests.factories import API, CUSTOMERS, Tenant, stored_customers

DEEP = 100_000
# (raw body, error code, the field or key the message must name, if any)
BAD_BODIES: list[tuple[bytes, int, str | None]] = [
    # Not UTF-8: a broken sequence, an overlong encoding, an encoded surrogate, a cut-off
    # sequence, Latin-1, and UTF-16 (which a parser guessing encodings would accept).
    (b'{"name": "\xc3\x28"}', 22, None),
    (b'{"name": "\xc0\xaf"}', 22, None),
    (b'{"name": "\xed\xa0\x80"}', 22, None),
    (b'{"name": "\xe2\x82"}', 22, None),
    (b'{"name": "caf\xe9"}', 22, None),
    ('{"name": "x"}'.encode("utf-16"), 22, None),
    (b'\xef\xbb\xbf{"name": "x"}', 22, None),
    # Nested deeper than any parser's stack, in a known and in an unknown field.
    (b'{"name": "x", "extra": ' + b"[" * DEEP + b"]" * DEEP + b"}", 22, None),
    (b'{"name": "x", "extra": ' + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"}", 22, None),
    # In a typed field the first level too many is already the wrong type.
    (
        b'{"name": "x", "allowed_shipping_profiles": ' + b"[" * DEEP + b"]" * DEEP + b"}",
        5,
        "allowed_shipping_profiles",
    ),
    # NaN and Infinity are not JSON, wherever they are.
    (b'{"name": "x", "idtemplate": NaN}', 22, None),
    (b'{"name": "x", "idtemplate": Infinity}', 22, None),
    (b'{"name": "x", "preferred_idwarehouse": -Infinity}', 22, None),
    (b'{"name": "x", "extra": NaN}', 22, None),
    # Numbers no field can hold.
    (b'{"name": "x", "idtemplate": ' + b"9" * 5000 + b"}", 5, "idtemplate"),
    (b'{"name": "x", "idtemplate": 1e999}', 5, "idtemplate"),
    (b'{"name": "x", "preferred_idwarehouse": -1e999}', 5, "preferred_idwarehouse"),
    (b'{"name": "x", "preferred_idwarehouse": 9223372036854775808}', 5, "preferred_idwarehouse"),
    (b'{"name": "x", "allowed_shipping_profiles": [1, 1e400]}', 5, "allowed_shipping_profiles"),
    (b'{"name": "x", "can_login": 1e999}', 5, "can_login"),
    (b'{"name": "x", "name": "y"}', 5, "name"),
    # A repeated key is refused, not resolved, whichever value would have won.
    (b'{"name": "x", "name": "x"}', 5, "name"),
    (b'{"name": "x", "idtemplate": 1, "idtemplate": "1"}', 5, "idtemplate"),
    (b'{"name": "x", "idtemplate": "1", "idtemplate": 1}', 5, "idtemplate"),
    (b'{"password": "long enough", "name": "x", "password": "other one"}', 5, "password"),
    (b'{"name": "x", "extra": {"deep": 1, "deep": 2}}', 5, "deep"),
    (b'{"name": "x", "extra": [{"k": 1}, {"k": 2, "k": 3}]}', 5, "k"),
]


def assert_wire_error(answer: Any, status: int, code: int, names: str | None = None) -> None:
    assert answer.status_code == status, answer.text[:500]
    body = answer.json()
    assert set(body) == {"error", "error_code", "error_message"}
    assert body["error"] is True
    assert body["error_code"] == code
    assert "Traceback" not in body["error_message"]
    if names is not None:
        assert names in body["error_message"]


@pytest.mark.parametrize(("raw", "code", "names"), BAD_BODIES, ids=lambda v: repr(v)[:40])
def test_bad_bytes_in_a_body_are_refused_and_change_nothing(
    tenant: Tenant, database: Database, raw: bytes, code: int, names: str | None
) -> None:
    existing = tenant.create_customer(name="Existing")
    before = stored_customers(database)
    path = f"{CUSTOMERS}/{existing['idfulfilment_customer']}"

    for answer in (
        tenant.client.post(CUSTOMERS, content=raw, auth=tenant.auth),
        tenant.client.put(path, content=raw, auth=tenant.auth),
    ):
        assert_wire_error(answer, 400, code, names)
    assert stored_customers(database) == before


def test_a_repeated_key_is_named_in_the_message(tenant: Tenant) -> None:
    answer = tenant.client.post(
        CUSTOMERS, content=b'{"name": "A", "language": "en", "language": "nl"}', auth=tenant.auth
    )

    assert_wire_error(answer, 400, 5)
    assert answer.json()["error_message"] == (
        "language appears more than once in the request body; send each key once."
    )


def test_fields_that_are_ignored_may_hold_any_valid_json(tenant: Tenant) -> None:
    """Unknown fields are ignored (README.md, "The API", Validation), so a huge number or
    a moderately nested value in one is no reason to refuse the body; what is not JSON
    still is (above)."""
    raw = b'{"name": "Tolerant", "extra": ' + b"9" * 5000 + b', "more": [[[[{"a": [1e999]}]]]]}'

    answer = tenant.client.post(CUSTOMERS, content=raw, auth=tenant.auth)

    assert answer.status_code == 200, answer.text
    assert answer.json()["name"] == "Tolerant"


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "application/xml",
        "application/json; charset=iso-8859-1",
        "nonsense",
    ],
)
def test_a_json_body_is_accepted_whatever_its_content_type(
    tenant: Tenant, content_type: str | None
) -> None:
    existing = tenant.create_customer(name="Before")
    headers = {"Content-Type": content_type} if content_type is not None else {}
    path = f"{CUSTOMERS}/{existing['idfulfilment_customer']}"

    created = tenant.client.post(
        CUSTOMERS, content=b'{"name": "Posted"}', headers=headers, auth=tenant.auth
    )
    updated = tenant.client.put(path, content=b'{"name": "Put"}', headers=headers, auth=tenant.auth)

    assert created.status_code == 200, created.text
    assert created.json()["name"] == "Posted"
    assert updated.status_code == 200, updated.text
    assert tenant.get(path).json()["name"] == "Put"


@pytest.mark.parametrize(
    "body",
    [b'{"name": "ignored"}', b"not json at all", b"\xff\xfe\x00", b"[" * 10_000],
)
def test_a_body_on_get_is_ignored(tenant: Tenant, database: Database, body: bytes) -> None:
    customer = tenant.create_customer(name="Kept")
    paths = [
        CUSTOMERS,
        f"{CUSTOMERS}/{customer['idfulfilment_customer']}",
        f"{CUSTOMERS}/{customer['idfulfilment_customer']}/history",
        f"{API}/warehouses",
        f"{API}/warehouses/{tenant.warehouse}",
        f"{API}/templates",
        f"{API}/shippingproviders",
    ]
    before = stored_customers(database)

    for path in paths:
        plain = tenant.get(path)
        with_body = tenant.client.request(
            "GET", path, content=body, auth=tenant.auth, headers={"Content-Type": "text/plain"}
        )
        assert with_body.status_code == plain.status_code == 200, with_body.text
        assert with_body.json() == plain.json()
    assert stored_customers(database) == before


@pytest.mark.parametrize(
    "header",
    [
        b"Basic \xff\xfe\xc3\xa9",
        b"Basic " + "é".encode("latin-1") * 10,
        b"Basic " + b"A" * 60_000,
        b"Basic " + json.dumps({"key": "x"}).encode(),
        b"Basic ====",
        b"basic",
        b" ",
    ],
    ids=lambda v: repr(v)[:30],
)
def test_malformed_authorization_is_a_clean_401(
    tenant: Tenant, database: Database, header: bytes
) -> None:
    tenant.create_customer(name="Existing")
    before = stored_customers(database)

    for answer in (
        tenant.client.get(CUSTOMERS, headers={"Authorization": header}),
        tenant.client.post(
            CUSTOMERS, content=b'{"name": "Intruder"}', headers={"Authorization": header}
        ),
    ):
        assert_wire_error(answer, 401, 101)
    assert stored_customers(database) == before
