"""Statements for reference data."""

from __future__ import annotations

import sqlalchemy as sa

from ..tables import shipping_provider_profiles as profiles
from ..tables import shipping_providers as providers
from ..tables import templates, warehouses

_p = sa.bindparam

_WAREHOUSE = (
    warehouses.c.idwarehouse,
    warehouses.c.name,
    warehouses.c.accept_orders,
    warehouses.c.counts_for_general_stock,
    warehouses.c.priority,
    warehouses.c.active,
)
WAREHOUSE_PAGE = (
    sa.select(*_WAREHOUSE)
    .where(warehouses.c.account_id == _p("account_id"))
    .order_by(warehouses.c.idwarehouse)
    .limit(_p("limit"))
    .offset(_p("offset"))
)
WAREHOUSE_ONE = sa.select(*_WAREHOUSE).where(
    warehouses.c.account_id == _p("account_id"), warehouses.c.idwarehouse == _p("id")
)
TEMPLATE_PAGE = (
    sa.select(templates.c.idtemplate, templates.c.name, templates.c.is_default)
    .where(templates.c.account_id == _p("account_id"))
    .order_by(templates.c.idtemplate)
    .limit(_p("limit"))
    .offset(_p("offset"))
)
PROVIDER_PAGE = (
    sa.select(
        providers.c.idshippingprovider, providers.c.name, providers.c.provider, providers.c.active
    )
    .where(providers.c.account_id == _p("account_id"))
    .order_by(providers.c.idshippingprovider)
    .limit(_p("limit"))
    .offset(_p("offset"))
)
# The profiles of a page of providers: every provider id of the page lies in [first, last].
PROFILES_OF_PROVIDERS = (
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
    .order_by(profiles.c.idshippingprovider_profile)
)


def _insert(table: sa.Table, *names: str) -> sa.Insert:
    return sa.insert(table).values({name: _p(name) for name in names})


INSERT_WAREHOUSE = _insert(
    warehouses,
    "account_id",
    "name",
    "accept_orders",
    "counts_for_general_stock",
    "priority",
    "active",
).returning(*_WAREHOUSE)
UNSET_DEFAULT_TEMPLATE = (
    sa.update(templates).where(templates.c.account_id == _p("account_id")).values(is_default=False)
)
INSERT_TEMPLATE = _insert(templates, "account_id", "name", "is_default").returning(
    templates.c.idtemplate, templates.c.name, templates.c.is_default
)
INSERT_PROVIDER = _insert(providers, "account_id", "name", "provider", "active").returning(
    providers.c.idshippingprovider, providers.c.name, providers.c.provider, providers.c.active
)
INSERT_PROFILE = _insert(profiles, "account_id", "idshippingprovider", "name", "active").returning(
    profiles.c.idshippingprovider_profile, profiles.c.name, profiles.c.active
)
