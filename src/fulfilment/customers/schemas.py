"""Wire shapes of a fulfilment customer: create and update bodies, and the two answers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from ..fields import FIELDS_BY_NAME, Language
from ..wire import DateTime


def field_meta(name: str) -> Meta:
    """The JSON Schema limits and text of a field, as the field table declares them."""
    field = FIELDS_BY_NAME[name]
    return Meta(
        min_length=field.min_length, max_length=field.max_length, description=field.description
    )


Id = Annotated[int, Meta(ge=1, le=2**63 - 1)]

# -- written by scripts/structs.py from the tables of fields.py: do not edit --
Name = Annotated[str, field_meta("name")]
Username = Annotated[str, field_meta("username")]
Password = Annotated[str, field_meta("password")]
Emailaddress = Annotated[str, field_meta("emailaddress")]
AllowedShippingProfiles = Annotated[list[Id], field_meta("allowed_shipping_profiles")]


class CustomerCreate(msgspec.Struct, kw_only=True):
    """Body of `POST /fulfilment/customers`. Unknown and read-only fields are ignored."""

    name: Name
    can_login: bool = False
    username: Username | None = None
    password: Password | UnsetType = UNSET
    emailaddress: Emailaddress | None = None
    language: Language = "nl"
    idtemplate: Id | None = None
    allowed_shipping_profiles: AllowedShippingProfiles = msgspec.field(default_factory=list)
    preferred_idwarehouse: Id | None = None


class CustomerUpdate(msgspec.Struct, kw_only=True):
    """Body of `PUT /fulfilment/customers/{id}`: only the fields sent are changed."""

    name: Name | UnsetType = UNSET
    can_login: bool | UnsetType = UNSET
    username: Username | UnsetType | None = UNSET
    password: Password | UnsetType = UNSET
    emailaddress: Emailaddress | UnsetType | None = UNSET
    language: Language | UnsetType = UNSET
    idtemplate: Id | UnsetType | None = UNSET
    allowed_shipping_profiles: AllowedShippingProfiles | UnsetType = UNSET
    preferred_idwarehouse: Id | UnsetType | None = UNSET


class Customer(msgspec.Struct):
    """A fulfilment customer, as GET one, POST and PUT answer it."""

    idfulfilment_customer: int
    name: str
    can_login: bool
    username: str | None
    emailaddress: str | None
    language: Language
    idtemplate: int | None
    last_login_at: DateTime | None
    allowed_shipping_profiles: list[int]
    preferred_idwarehouse: int | None


class CustomerListItem(msgspec.Struct):
    """A fulfilment customer in a list: without `allowed_shipping_profiles`."""

    idfulfilment_customer: int
    name: str
    can_login: bool
    username: str | None
    emailaddress: str | None
    language: Language
    idtemplate: int | None
    last_login_at: DateTime | None
    preferred_idwarehouse: int | None


# -- end of what scripts/structs.py writes --


class AuditActor(msgspec.Struct, kw_only=True):
    """`api_key` (id and name of the key), `staff` (a staff user in the back office: its
    iduser and username) or `portal` (the customer itself, by username)."""

    type: Literal["api_key", "staff", "portal"]
    id: int
    name: str


class AuditEvent(msgspec.Struct, kw_only=True):
    """One entry of a customer's history."""

    id: int
    action: Literal["create", "update", "login"]
    occurred_at: DateTime
    actor: AuditActor
    changes: dict[str, Any] = msgspec.field(
        default_factory=dict,
        # Documented shape: field -> {"from": old, "to": new}; password -> "changed".
    )
