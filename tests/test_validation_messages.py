"""Every kind of validation message msgspec gives, read into our own words. msgspec offers
only English text: an upgrade that words one kind differently fails here, not in a 400
body a client parses."""

from __future__ import annotations

import msgspec
import pytest

from fulfilment import wire
from fulfilment.customers.schemas import CustomerCreate
from fulfilment.errors import InvalidInput

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
