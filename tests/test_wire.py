"""Every kind of validation message msgspec gives, read into our own words. msgspec offers
only English text: an upgrade that words one kind differently fails here, not in a 400
body a client parses."""

from __future__ import annotations

import re

import msgspec
import pytest

from fulfilment import wire
from fulfilment.customers.schemas import CustomerCreate
from fulfilment.errors import InvalidInput
from tests.factories import CUSTOMERS, Tenant

HOOKS = "/api/v1/hooks"

KINDS = [
    # (body, msgspec's own text, our message)
    (b"{}", "Object missing required field `name`", "name is required."),
    (
        b'{"name": 1}',
        "Expected `str`, got `int` - at `$.name`",
        "name must be a string, not an integer.",
    ),
    (b"[]", "Expected `object`, got `array`", "The request body must be an object."),
    (
        b'{"name": "x", "language": "xx"}',
        "Invalid enum value 'xx' - at `$.language`",
        "language has an unknown value 'xx'.",
    ),
    (
        b'{"name": "x", "password": "short"}',
        "Expected `str` of length >= 8 - at `$.password`",
        "password must be a string at least 8 characters long.",
    ),
    (
        b'{"name": "x", "idtemplate": 0}',
        "Expected `int` >= 1 - at `$.idtemplate`",
        "idtemplate must be an integer at least 1.",
    ),
    (
        b'{"name": "x", "allowed_shipping_profiles": [1, "a"]}',
        "Expected `int`, got `str` - at `$.allowed_shipping_profiles[1]`",
        "allowed_shipping_profiles must be an integer, not a string (item [1]).",
    ),
]


def _raw(body: bytes) -> str:
    with pytest.raises(msgspec.ValidationError) as raised:
        msgspec.json.decode(body, type=CustomerCreate, strict=True)
    return str(raised.value)


@pytest.mark.parametrize(("body", "theirs", "ours"), KINDS)
def test_each_kind_of_message_is_read_into_ours(body: bytes, theirs: str, ours: str) -> None:
    assert _raw(body) == theirs
    with pytest.raises(InvalidInput) as raised:
        wire.decode_body(body, CustomerCreate)
    assert raised.value.message == ours


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        (
            "Integer value out of range - at `$.idtemplate`",
            "idtemplate",
            "idtemplate is out of range.",
        ),
        ("Something new - at `$.name`", "name", "name is not valid."),
        ("Expected `str` shorter than the moon - at `$.name`", "name", None),
        ("Something new entirely", None, "The request body is not valid."),
    ],
)
def test_a_message_of_a_kind_we_do_not_know_names_the_field_in_our_words(
    text: str, field: str | None, message: str | None
) -> None:
    explained = wire._explain(msgspec.ValidationError(text))
    if message is not None:
        assert explained.message == message
    if field is not None:
        assert explained.message.startswith(f"{field} ")
    # Never the library's own words.
    assert "moon" not in explained.message
    assert "Something new" not in explained.message


def test_every_refusal_of_a_field_has_one_form(tenant: Tenant) -> None:
    """`<field> <what is wrong>.`: the field's name first, as the sentence's subject, whether
    msgspec, a rule of the service or the database found the fault."""
    tenant.create_customer(name="Acme", username="acme")
    hook = {"name": "Sync", "event": "fulfilment_customers.created"}
    refusals = {
        "name": tenant.post(CUSTOMERS, {}),
        "language": tenant.post(CUSTOMERS, {"name": "x", "language": "de"}),
        "username": tenant.post(CUSTOMERS, {"name": "x", "username": "ACME"}),
        "idtemplate": tenant.post(CUSTOMERS, {"name": "x", "idtemplate": 999}),
        "allowed_shipping_profiles": tenant.post(
            CUSTOMERS, {"name": "x", "allowed_shipping_profiles": [999]}
        ),
        "preferred_idwarehouse": tenant.post(CUSTOMERS, {"name": "x", "preferred_idwarehouse": 9}),
        "password": tenant.post(CUSTOMERS, {"name": "x", "can_login": True, "username": "y"}),
        "offset": tenant.get(CUSTOMERS, params={"offset": "-1"}),
    }
    tenant.post(HOOKS, {**hook, "address": "https://8.8.8.8/hook"})
    refusals["address"] = tenant.post(HOOKS, {**hook, "address": "https://8.8.8.8/hook"})
    for field, answer in refusals.items():
        assert answer.status_code == 400, (field, answer.text)
        message = answer.json()["error_message"]
        assert re.fullmatch(rf"{field} [^:]+\.", message), message
    assert refusals["username"].json()["error_message"] == (
        "username 'ACME' is already used by another fulfilment customer."
    )
    assert refusals["address"].json()["error_message"].startswith("address is already used by")
