"""The statements behind the back office's pages, built once and compiled once per dialect
(the customers' own statements are the customers package's)."""

from __future__ import annotations

import sqlalchemy as sa

from ..tables import (
    accounts,
    hook_deliveries,
    hook_events,
    shipping_provider_profiles,
    shipping_providers,
    templates,
    warehouses,
)

_p = sa.bindparam

WAREHOUSES = (
    sa.select(warehouses.c.idwarehouse, warehouses.c.name)
    .where(warehouses.c.account_id == _p("account_id"))
    .order_by(warehouses.c.idwarehouse)
)
TEMPLATES = (
    sa.select(templates.c.idtemplate, templates.c.name, templates.c.is_default)
    .where(templates.c.account_id == _p("account_id"))
    .order_by(templates.c.idtemplate)
)
PROFILES = (
    sa.select(
        shipping_provider_profiles.c.idshippingprovider_profile,
        shipping_providers.c.name,
        shipping_provider_profiles.c.name,
    )
    .join(
        shipping_providers,
        shipping_providers.c.idshippingprovider == shipping_provider_profiles.c.idshippingprovider,
    )
    .where(shipping_provider_profiles.c.account_id == _p("account_id"))
    .order_by(shipping_provider_profiles.c.idshippingprovider_profile)
)
# The portal sessions of a customer carry this number; ending them takes the current one.
# Whether the account requires a second factor of its staff users, and of its customers.
REQUIREMENTS = sa.select(accounts.c.require_staff_2fa, accounts.c.require_portal_2fa).where(
    accounts.c.id == _p("account_id")
)

# Customers are never deleted, so the account's counter (which numbers them) is their total.
CUSTOMER_TOTAL = sa.select(accounts.c.customer_count).where(accounts.c.id == _p("account_id"))

# The object each delivery of a page of the log was about (its payload's `data`), read
# beside the hooks service's page of the same deliveries.
DELIVERY_DATA = (
    sa.select(hook_deliveries.c.iddelivery, hook_events.c.data)
    .join(hook_events, hook_events.c.idevent == hook_deliveries.c.idevent)
    .where(hook_deliveries.c.account_id == _p("account_id"), hook_deliveries.c.idhook == _p("id"))
    .order_by(hook_deliveries.c.iddelivery.desc())
    .limit(_p("limit"))
    .offset(_p("offset"))
)
