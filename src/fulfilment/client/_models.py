"""Typed objects of the API: fulfilment customers, their history, the reference data they
point at, and the account's staff users.

Answers are decoded leniently (unknown fields are ignored, fields an older server leaves out
get a default), so the same objects work against this service and the hosted system."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

import msgspec
from msgspec import UNSET, UnsetType

__all__ = [
    "CUSTOMER_CHANGED",
    "CUSTOMER_CREATED",
    "EVENTS",
    "UNSET",
    "AuditActor",
    "AuditEvent",
    "Customer",
    "CustomerCreate",
    "CustomerFields",
    "CustomerListItem",
    "CustomerUpdate",
    "ShippingProfile",
    "ShippingProvider",
    "Template",
    "UnsetType",
    "User",
    "Warehouse",
]


# -- written by scripts/structs.py from the tables of fields.py: do not edit --


class CustomerListItem(msgspec.Struct, kw_only=True, frozen=True):
    """A fulfilment customer as a list page shows it (no `allowed_shipping_profiles`)."""

    idfulfilment_customer: int
    name: str
    can_login: bool = False
    username: str | None = None
    emailaddress: str | None = None
    language: str = "nl"
    idtemplate: int | None = None
    last_login_at: str | None = None
    preferred_idwarehouse: int | None = None


class Customer(msgspec.Struct, kw_only=True, frozen=True):
    """A fulfilment customer with every field, as `get`, `create` and `update` return it."""

    idfulfilment_customer: int
    name: str
    can_login: bool = False
    username: str | None = None
    emailaddress: str | None = None
    language: str = "nl"
    idtemplate: int | None = None
    last_login_at: str | None = None
    allowed_shipping_profiles: list[int] = msgspec.field(default_factory=list)
    preferred_idwarehouse: int | None = None


class CustomerCreate(msgspec.Struct, kw_only=True, frozen=True):
    """The body of a create: fields left UNSET are not sent and get the server's default."""

    name: str
    can_login: bool | UnsetType = UNSET
    username: str | UnsetType | None = UNSET
    password: str | UnsetType = UNSET
    emailaddress: str | UnsetType | None = UNSET
    language: str | UnsetType = UNSET
    idtemplate: int | UnsetType | None = UNSET
    allowed_shipping_profiles: Sequence[int] | UnsetType = UNSET
    preferred_idwarehouse: int | UnsetType | None = UNSET

    def __repr__(self) -> str:
        return _without_password(self)


class CustomerUpdate(msgspec.Struct, kw_only=True, frozen=True):
    """The body of an update: only the fields that are not UNSET are sent and changed."""

    name: str | UnsetType = UNSET
    can_login: bool | UnsetType = UNSET
    username: str | UnsetType | None = UNSET
    password: str | UnsetType = UNSET
    emailaddress: str | UnsetType | None = UNSET
    language: str | UnsetType = UNSET
    idtemplate: int | UnsetType | None = UNSET
    allowed_shipping_profiles: Sequence[int] | UnsetType = UNSET
    preferred_idwarehouse: int | UnsetType | None = UNSET

    def __repr__(self) -> str:
        return _without_password(self)


class CustomerFields(TypedDict, total=False):
    """The writable fields, as keyword arguments of `create` and `update`."""

    name: str
    can_login: bool
    username: str | None
    password: str
    emailaddress: str | None
    language: str
    idtemplate: int | None
    allowed_shipping_profiles: Sequence[int]
    preferred_idwarehouse: int | None


CUSTOMER_CREATED = "fulfilment_customers.created"
CUSTOMER_CHANGED = "fulfilment_customers.changed"
# The events a hook subscribes to.
EVENTS = (CUSTOMER_CREATED, CUSTOMER_CHANGED)


# -- end of what scripts/structs.py writes --


def _without_password(body: CustomerCreate | CustomerUpdate) -> str:
    """A repr that never shows a password, so that bodies can be logged safely."""
    shown = ", ".join(
        f"{name}={'***' if name == 'password' else repr(value)}"
        for name, value in msgspec.structs.asdict(body).items()
        if value is not UNSET
    )
    return f"{type(body).__name__}({shown})"


class Warehouse(msgspec.Struct, kw_only=True, frozen=True):
    """A warehouse, the target of `preferred_idwarehouse`."""

    idwarehouse: int
    name: str
    accept_orders: bool = True
    counts_for_general_stock: bool = True
    priority: int = 0
    active: bool = True


class Template(msgspec.Struct, kw_only=True, frozen=True):
    """A template (packing slip, invoice), the target of `idtemplate`."""

    idtemplate: int
    name: str
    default: bool = False


class ShippingProfile(msgspec.Struct, kw_only=True, frozen=True):
    """One profile of a shipping provider, the items of `allowed_shipping_profiles`."""

    idshippingprovider_profile: int
    name: str
    active: bool = True


class ShippingProvider(msgspec.Struct, kw_only=True, frozen=True):
    """A shipping provider with its profiles."""

    idshippingprovider: int
    name: str
    provider: str = ""
    active: bool = True
    profiles: list[ShippingProfile] = msgspec.field(default_factory=list)


class AuditActor(msgspec.Struct, kw_only=True, frozen=True):
    """Who made a change: `api_key` (the key's id and name), `staff` (a staff user in the
    back office: its iduser and username) or `portal` (the customer, by username)."""

    type: str
    id: int
    name: str


class AuditEvent(msgspec.Struct, kw_only=True, frozen=True):
    """One entry of a customer's history: a create, an update or a portal login."""

    id: int
    action: str
    occurred_at: str
    actor: AuditActor
    changes: dict[str, Any] = msgspec.field(default_factory=dict)
    """Each changed field as `{"from": old, "to": new}`; a password only as `"changed"`."""


class User(msgspec.Struct, kw_only=True, frozen=True):
    """A staff user of the back office (read-only over the API)."""

    iduser: int
    username: str
    firstname: str | None = None
    lastname: str | None = None
    emailaddress: str | None = None
    language: str = "nl"
    admin: bool = False
    active: bool = True
    last_login_at: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
