"""Every rule of the field table: a violating body gets 400 naming the field, and nothing
stored changes, whether the body creates a customer or updates one."""

from __future__ import annotations

from typing import Any

import pytest

from fulfilment.db import Database
from tests.factories import CUSTOMERS, Tenant, stored_customers

# (body, field the error must name). `None` values in a tuple are filled per tenant below.
TYPE_VIOLATIONS: list[tuple[dict[str, Any], str]] = [
    ({"name": None}, "name"),
    ({"name": 5}, "name"),
    ({"name": ["a"]}, "name"),
    ({"can_login": "true"}, "can_login"),
    ({"can_login": 1}, "can_login"),
    ({"username": 5}, "username"),
    ({"password": 12345678}, "password"),
    ({"password": None}, "password"),
    ({"emailaddress": True}, "emailaddress"),
    ({"language": 1}, "language"),
    ({"language": None}, "language"),
    ({"idtemplate": "1"}, "idtemplate"),
    ({"idtemplate": 1.0}, "idtemplate"),
    ({"idtemplate": True}, "idtemplate"),
    ({"allowed_shipping_profiles": "1"}, "allowed_shipping_profiles"),
    ({"allowed_shipping_profiles": None}, "allowed_shipping_profiles"),
    ({"allowed_shipping_profiles": ["1"]}, "allowed_shipping_profiles"),
    ({"allowed_shipping_profiles": [1.5]}, "allowed_shipping_profiles"),
    ({"preferred_idwarehouse": True}, "preferred_idwarehouse"),
    ({"preferred_idwarehouse": {"id": 1}}, "preferred_idwarehouse"),
    ({"preferred_idwarehouse": 2**64}, "preferred_idwarehouse"),
    ({"preferred_idwarehouse": 0}, "preferred_idwarehouse"),
]
VALUE_VIOLATIONS: list[tuple[dict[str, Any], str]] = [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 256}, "name"),
    ({"name": "a\u0000b"}, "name"),
    ({"username": "nul\u0000"}, "username"),
    ({"language": "de"}, "language"),
    ({"language": "NL"}, "language"),
    ({"username": ""}, "username"),
    ({"username": " padded"}, "username"),
    ({"username": "padded\t"}, "username"),
    ({"username": "u" * 101}, "username"),
    ({"password": "short"}, "password"),
    ({"password": "p" * 1025}, "password"),
    ({"emailaddress": "not an address"}, "emailaddress"),
    ({"emailaddress": "nobody@nowhere"}, "emailaddress"),
    ({"emailaddress": ""}, "emailaddress"),
    # One mailbox: no list, no group, no name.
    ({"emailaddress": "root,victim@acme.test"}, "emailaddress"),
    ({"emailaddress": "team: victim@acme.test;"}, "emailaddress"),
    ({"emailaddress": "Root <root@acme.test>"}, "emailaddress"),
    ({"idtemplate": 987654}, "idtemplate"),
    ({"preferred_idwarehouse": 987654}, "preferred_idwarehouse"),
    ({"allowed_shipping_profiles": [987654]}, "allowed_shipping_profiles"),
    ({"can_login": True, "username": "someone"}, "password"),
    ({"can_login": True, "username": None, "password": "long enough"}, "username"),
]
ALL_VIOLATIONS = TYPE_VIOLATIONS + VALUE_VIOLATIONS


def assert_rejected(answer: Any, field: str, code: int = 5) -> None:
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["error"] is True
    assert body["error_code"] == code
    assert field in body["error_message"]
    assert set(body) == {"error", "error_code", "error_message"}


@pytest.fixture
def existing(tenant: Tenant) -> dict[str, Any]:
    return tenant.create_customer(
        name="Existing", username="existing", emailaddress="ops@existing.example"
    )


@pytest.mark.pgbouncer
@pytest.mark.parametrize(("violation", "field"), ALL_VIOLATIONS)
def test_create_refuses(
    tenant: Tenant,
    database: Database,
    existing: dict[str, Any],
    violation: dict[str, Any],
    field: str,
) -> None:
    before = stored_customers(database)

    answer = tenant.post(CUSTOMERS, {"name": "New customer", **violation})

    assert_rejected(answer, field)
    assert stored_customers(database) == before


@pytest.mark.pgbouncer
@pytest.mark.parametrize(("violation", "field"), ALL_VIOLATIONS)
def test_update_refuses(
    tenant: Tenant,
    database: Database,
    existing: dict[str, Any],
    violation: dict[str, Any],
    field: str,
) -> None:
    before = stored_customers(database)

    answer = tenant.put(f"{CUSTOMERS}/{existing['idfulfilment_customer']}", violation)

    assert_rejected(answer, field)
    assert stored_customers(database) == before


def test_create_requires_a_name(tenant: Tenant, database: Database) -> None:
    answer = tenant.post(CUSTOMERS, {"username": "nameless"})

    assert_rejected(answer, "name")
    assert stored_customers(database) == []


def test_references_of_another_account_are_refused(
    tenant: Tenant, other_tenant: Tenant, database: Database, existing: dict[str, Any]
) -> None:
    path = f"{CUSTOMERS}/{existing['idfulfilment_customer']}"
    before = stored_customers(database)
    for violation, field in [
        ({"idtemplate": other_tenant.template}, "idtemplate"),
        ({"preferred_idwarehouse": other_tenant.warehouse}, "preferred_idwarehouse"),
        (
            {"allowed_shipping_profiles": [tenant.profiles[0], other_tenant.profiles[0]]},
            "allowed_shipping_profiles",
        ),
    ]:
        assert_rejected(tenant.post(CUSTOMERS, {"name": "New", **violation}), field)
        assert_rejected(tenant.put(path, violation), field)
    assert stored_customers(database) == before


@pytest.mark.pgbouncer
@pytest.mark.parametrize("taken", ["existing", "EXISTING", "Existing"])
def test_usernames_are_unique_ignoring_case(
    tenant: Tenant, database: Database, existing: dict[str, Any], taken: str
) -> None:
    other = tenant.create_customer(name="Other")
    before = stored_customers(database)

    assert_rejected(tenant.post(CUSTOMERS, {"name": "New", "username": taken}), "username")
    assert_rejected(
        tenant.put(f"{CUSTOMERS}/{other['idfulfilment_customer']}", {"username": taken}),
        "username",
    )
    assert stored_customers(database) == before


def test_the_same_username_may_be_used_in_another_account(
    tenant: Tenant, other_tenant: Tenant, existing: dict[str, Any]
) -> None:
    created = other_tenant.create_customer(name="Namesake", username="existing")

    assert created["username"] == "existing"


def test_a_customer_may_keep_its_own_username_in_another_case(
    tenant: Tenant, existing: dict[str, Any]
) -> None:
    answer = tenant.put(
        f"{CUSTOMERS}/{existing['idfulfilment_customer']}", {"username": "Existing"}
    )

    assert answer.status_code == 200
    assert answer.json()["username"] == "Existing"


@pytest.mark.parametrize("letter", ["ß", "ﬃ", "İ"])
def test_a_username_that_case_folding_lengthens_is_stored(tenant: Tenant, letter: str) -> None:
    """100 characters are allowed; folded for the uniqueness check they may be 300."""
    created = tenant.create_customer(name="Long fold", username=letter * 100)

    assert created["username"] == letter * 100
    assert_rejected(tenant.post(CUSTOMERS, {"name": "Twin", "username": letter * 100}), "username")


def test_can_login_is_judged_after_the_change(tenant: Tenant, database: Database) -> None:
    customer = tenant.create_customer(name="Later login", username="later")
    path = f"{CUSTOMERS}/{customer['idfulfilment_customer']}"

    assert_rejected(tenant.put(path, {"can_login": True}), "password")
    answer = tenant.put(path, {"can_login": True, "password": "now with one"})
    assert answer.status_code == 200
    assert answer.json()["can_login"] is True

    before = stored_customers(database)
    assert_rejected(tenant.put(path, {"username": None}), "username")
    assert stored_customers(database) == before
    answer = tenant.put(path, {"can_login": False, "username": None})
    assert answer.status_code == 200
    assert answer.json()["username"] is None


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b'{"name": "x",}',
        b"name=x",
        b"\xff\xfe",
        b'{"name": "\xff"}',
        b'{"name": "a\\ud800b"}',
        b"",
        b"nul",
    ],
)
def test_malformed_json_is_error_22(tenant: Tenant, database: Database, raw: bytes) -> None:
    existing = tenant.create_customer(name="Existing")
    before = stored_customers(database)

    for answer in (
        tenant.client.post(CUSTOMERS, content=raw, auth=tenant.auth),
        tenant.client.put(
            f"{CUSTOMERS}/{existing['idfulfilment_customer']}", content=raw, auth=tenant.auth
        ),
    ):
        assert answer.status_code == 400
        assert answer.json()["error_code"] == 22
    assert stored_customers(database) == before


@pytest.mark.parametrize("body", [[], ["name"], "Fulfilling Partners", 42, None, True])
def test_a_body_that_is_not_an_object_is_refused(
    tenant: Tenant, database: Database, body: Any
) -> None:
    answer = tenant.post(CUSTOMERS, body)

    assert answer.status_code == 400
    assert answer.json()["error_code"] == 5
    assert "object" in answer.json()["error_message"]
    assert stored_customers(database) == []


def test_a_body_over_one_mebibyte_is_413(tenant: Tenant, database: Database) -> None:
    existing = tenant.create_customer(name="Existing")
    before = stored_customers(database)
    huge = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'

    for answer in (
        tenant.client.post(CUSTOMERS, content=huge, auth=tenant.auth),
        tenant.client.put(
            f"{CUSTOMERS}/{existing['idfulfilment_customer']}", content=huge, auth=tenant.auth
        ),
    ):
        assert answer.status_code == 413
        assert answer.json()["error_code"] == 103
    assert stored_customers(database) == before


def test_unknown_and_read_only_fields_are_ignored(tenant: Tenant) -> None:
    answer = tenant.post(
        CUSTOMERS,
        {
            "name": "Ignored extras",
            "idfulfilment_customer": 424242,
            "last_login_at": "2019-04-03 21:14:18",
            "favourite_colour": "green",
        },
    )

    assert answer.status_code == 200
    created = answer.json()
    assert created["idfulfilment_customer"] != 424242
    assert created["last_login_at"] is None
    assert "favourite_colour" not in created


def test_values_are_normalised_as_documented(tenant: Tenant) -> None:
    created = tenant.create_customer(
        name="  Trimmed BV  ",
        allowed_shipping_profiles=[tenant.profiles[1], tenant.profiles[0], tenant.profiles[1]],
        emailaddress="info@trimmed.example",
        idtemplate=tenant.template,
        language="en",
    )

    assert created["name"] == "Trimmed BV"
    assert created["allowed_shipping_profiles"] == [tenant.profiles[1], tenant.profiles[0]]
    assert created["emailaddress"] == "info@trimmed.example"
    assert created["idtemplate"] == tenant.template
    assert created["language"] == "en"


@pytest.mark.pgbouncer
def test_put_keeps_the_fields_it_does_not_name(tenant: Tenant) -> None:
    created = tenant.create_customer(
        name="Partial",
        username="partial",
        emailaddress="a@partial.example",
        idtemplate=tenant.template,
        preferred_idwarehouse=tenant.warehouse,
        allowed_shipping_profiles=tenant.profiles,
    )
    path = f"{CUSTOMERS}/{created['idfulfilment_customer']}"

    answer = tenant.put(path, {"emailaddress": None, "idtemplate": None})

    assert answer.status_code == 200
    assert answer.json() == {**created, "emailaddress": None, "idtemplate": None}
