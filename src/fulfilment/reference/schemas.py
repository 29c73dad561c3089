"""Wire shapes of the reference data, as the hosted system answers them."""

from __future__ import annotations

import msgspec


class Warehouse(msgspec.Struct, kw_only=True):
    idwarehouse: int
    name: str
    accept_orders: bool
    counts_for_general_stock: bool
    priority: int
    active: bool


class Template(msgspec.Struct, kw_only=True):
    idtemplate: int
    name: str
    default: bool


class ShippingProfile(msgspec.Struct, kw_only=True):
    idshippingprovider_profile: int
    name: str
    active: bool


class ShippingProvider(msgspec.Struct, kw_only=True):
    idshippingprovider: int
    name: str
    provider: str
    active: bool
    profiles: list[ShippingProfile]
