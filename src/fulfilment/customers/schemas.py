"""Wire shapes of a fulfilment customer: create and update bodies, and the two answers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from ..fields import (
    EMAIL_MAX,
    NAME_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    USERNAME_MAX,
    Language,
)

Id = Annotated[int, Meta(ge=1, le=2**63 - 1)]
# No maxLength: the limit applies after trimming (service.clean_name), and a JSON Schema
# cannot say so; NAME_MAX characters with white space around them are a valid name.
Name = Annotated[
    str, Meta(min_length=1, description=f"1-{NAME_MAX} characters after trimming white space.")
]
Username = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=USERNAME_MAX,
        description=(
            "Unique in the account, compared after Unicode normalisation (NFKC) and case "
            "folding; no surrounding white space, no control or invisible characters."
        ),
    ),
]
Password = Annotated[
    str,
    Meta(
        min_length=PASSWORD_MIN,
        max_length=PASSWORD_MAX,
        description="Write-only: stored as an argon2id hash, never returned.",
    ),
]
EmailAddress = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=EMAIL_MAX,
        description="Must look like an e-mail address; no control or invisible characters.",
    ),
]
DateTime = Annotated[
    str,
    Meta(
        pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
        description="`YYYY-MM-DD HH:MM:SS` in the account's time zone.",
    ),
]
ShippingProfiles = Annotated[
    list[Id],
    Meta(
        max_length=1000,
        description=(
            "idshippingprovider_profile's this customer may use; empty means all. "
            "Order is kept, duplicates are dropped."
        ),
    ),
]


class CustomerCreate(msgspec.Struct, kw_only=True):
    """Body of `POST /fulfilment/customers`. Unknown and read-only fields are ignored."""

    name: Name
    can_login: bool = False
    username: Username | None = None
    password: Password | UnsetType = UNSET
    emailaddress: EmailAddress | None = None
    language: Language = "nl"
    idtemplate: Id | None = None
    allowed_shipping_profiles: ShippingProfiles = msgspec.field(default_factory=list)
    preferred_idwarehouse: Id | None = None


class CustomerUpdate(msgspec.Struct, kw_only=True):
    """Body of `PUT /fulfilment/customers/{id}`: only the fields sent are changed."""

    name: Name | UnsetType = UNSET
    can_login: bool | UnsetType = UNSET
    username: Username | UnsetType | None = UNSET
    password: Password | UnsetType = UNSET
    emailaddress: EmailAddress | UnsetType | None = UNSET
    language: Language | UnsetType = UNSET
    idtemplate: Id | UnsetType | None = UNSET
    allowed_shipping_profiles: ShippingProfiles | UnsetType = UNSET
    preferred_idwarehouse: Id | UnsetType | None = UNSET


class Customer(msgspec.Struct, kw_only=True):
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


class CustomerListItem(msgspec.Struct, kw_only=True):
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
