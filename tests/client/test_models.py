"""The client's typed objects read the hosted system's answers as its reference page shows
them, and never show a password."""

from __future__ import annotations

import msgspec
import pytest

from fulfilment.client import (
    Customer,
    CustomerCreate,
    CustomerListItem,
    CustomerUpdate,
    ShippingProvider,
)

# The reference page's list example (without emailaddress, which a later version added).
EXAMPLE_LIST = b"""[{"idfulfilment_customer": 1, "name": "FulfilmentPartij BV", "can_login": true,
"username": "fulfilment", "language": "nl", "idtemplate": null,
"last_login_at": "2019-04-03 21:14:18", "preferred_idwarehouse": 1}]"""
EXAMPLE_SINGLE = b"""{"idfulfilment_customer": 1, "name": "FulfilmentPartij BV", "can_login": true,
"username": "fulfilment", "language": "nl", "idtemplate": null,
"last_login_at": "2019-04-03 21:14:18", "allowed_shipping_profiles": [22, 98],
"preferred_idwarehouse": 1, "some_future_field": {"x": 1}}"""


def test_the_reference_pages_answers_decode() -> None:
    (item,) = msgspec.json.decode(EXAMPLE_LIST, type=list[CustomerListItem])
    single = msgspec.json.decode(EXAMPLE_SINGLE, type=Customer)

    assert item.emailaddress is None
    assert item.last_login_at == "2019-04-03 21:14:18"
    assert single.allowed_shipping_profiles == [22, 98]
    assert single.preferred_idwarehouse == 1


def test_a_body_sends_only_the_fields_that_were_set() -> None:
    create = CustomerCreate(name="Acme", emailaddress=None)
    update = CustomerUpdate(language="en")

    assert msgspec.json.decode(msgspec.json.encode(create)) == {
        "name": "Acme",
        "emailaddress": None,
    }
    assert msgspec.json.decode(msgspec.json.encode(update)) == {"language": "en"}


@pytest.mark.parametrize("kind", [CustomerCreate, CustomerUpdate])
def test_a_body_never_shows_its_password(kind: type[CustomerCreate | CustomerUpdate]) -> None:
    body = kind(name="Acme", password="ue73hjdf893")

    assert "ue73hjdf893" not in repr(body)
    assert repr(body) == f"{kind.__name__}(name='Acme', password=***)"


def test_objects_are_immutable() -> None:
    provider = ShippingProvider(idshippingprovider=1, name="PostNL")

    with pytest.raises(AttributeError):
        provider.name = "DHL"  # type: ignore[misc]
