"""Statements for reference data."""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa

from ..db import Query
from ..tables import shipping_provider_profiles as profiles
from ..tables import shipping_providers as providers
from ..tables import templates, warehouses

_p = sa.bindparam


class WarehouseRow(NamedTuple):
    idwarehouse: int
    name: str
    accept_orders: bool
    counts_for_general_stock: bool
    priority: int
    active: bool


class TemplateRow(NamedTuple):
    idtemplate: int
    name: str
    is_default: bool


class ProviderRow(NamedTuple):
    idshippingprovider: int
    name: str
    provider: str
    active: bool


class ProfileRow(NamedTuple):
    idshippingprovider_profile: int
    name: str
    active: bool


class ProviderProfileRow(NamedTuple):
    idshippingprovider: int
    idshippingprovider_profile: int
    name: str
    active: bool


_WAREHOUSE = (
    warehouses.c.idwarehouse,
    warehouses.c.name,
    warehouses.c.accept_orders,
    warehouses.c.counts_for_general_stock,
    warehouses.c.priority,
    warehouses.c.active,
)
WAREHOUSE_PAGE = Query(
    sa.select(*_WAREHOUSE)
    .where(warehouses.c.account_id == _p("account_id"))
    .order_by(warehouses.c.idwarehouse)
    .limit(_p("limit"))
    .offset(_p("offset")),
    WarehouseRow,
)
WAREHOUSE_ONE = Query(
    sa.select(*_WAREHOUSE).where(
        warehouses.c.account_id == _p("account_id"), warehouses.c.idwarehouse == _p("id")
    ),
    WarehouseRow,
)
_TEMPLATE = (templates.c.idtemplate, templates.c.name, templates.c.is_default)
TEMPLATE_PAGE = Query(
    sa.select(*_TEMPLATE)
    .where(templates.c.account_id == _p("account_id"))
    .order_by(templates.c.idtemplate)
    .limit(_p("limit"))
    .offset(_p("offset")),
    TemplateRow,
)
_PROVIDER = (
    providers.c.idshippingprovider,
    providers.c.name,
    providers.c.provider,
    providers.c.active,
)
PROVIDER_PAGE = Query(
    sa.select(*_PROVIDER)
    .where(providers.c.account_id == _p("account_id"))
    .order_by(providers.c.idshippingprovider)
    .limit(_p("limit"))
    .offset(_p("offset")),
    ProviderRow,
)
# The profiles of a page of providers: every provider id of the page lies in [first, last].
PROFILES_OF_PROVIDERS = Query(
    sa.select(
        profiles.c.idshippingprovider,
        profiles.c.idshippingprovider_profile,
        profiles.c.name,
        profiles.c.active,
    )
    .where(
        profiles.c.account_id == _p("account_id"),
        profiles.c.idshippingprovider >= _p("first"),
        profiles.c.idshippingprovider <= _p("last"),
    )
    .order_by(profiles.c.idshippingprovider_profile),
    ProviderProfileRow,
)


def _insert(table: sa.Table, *names: str) -> sa.Insert:
    return sa.insert(table).values({name: _p(name) for name in names})


INSERT_WAREHOUSE = Query(
    _insert(
        warehouses,
        "account_id",
        "name",
        "accept_orders",
        "counts_for_general_stock",
        "priority",
        "active",
    ).returning(*_WAREHOUSE),
    WarehouseRow,
)
UNSET_DEFAULT_TEMPLATE = (
    sa.update(templates).where(templates.c.account_id == _p("account_id")).values(is_default=False)
)
INSERT_TEMPLATE = Query(
    _insert(templates, "account_id", "name", "is_default").returning(*_TEMPLATE), TemplateRow
)
INSERT_PROVIDER = Query(
    _insert(providers, "account_id", "name", "provider", "active").returning(*_PROVIDER),
    ProviderRow,
)
INSERT_PROFILE = Query(
    _insert(profiles, "account_id", "idshippingprovider", "name", "active").returning(
        profiles.c.idshippingprovider_profile, profiles.c.name, profiles.c.active
    ),
    ProfileRow,
)
