"""The statements behind the portal, built once and compiled once per dialect."""

from __future__ import annotations

import sqlalchemy as sa

from ..tables import fulfilment_customers as customers
from ..tables import shipping_provider_profiles, shipping_providers, templates, warehouses

_p = sa.bindparam

_in_account = (
    customers.c.account_id == _p("account_id"),
    customers.c.idfulfilment_customer == _p("id"),
)

# The customer's page (portal/service.py), once identity/ has checked its session.
CUSTOMER_PAGE = (
    sa.select(
        customers.c.name,
        customers.c.username,
        customers.c.emailaddress,
        customers.c.language,
        customers.c.allowed_shipping_profiles,
        warehouses.c.name,
        templates.c.name,
        customers.c.totp_secret.is_not(None),
    )
    .select_from(
        customers.outerjoin(
            warehouses, warehouses.c.idwarehouse == customers.c.preferred_idwarehouse
        ).outerjoin(templates, templates.c.idtemplate == customers.c.idtemplate)
    )
    .where(*_in_account)
)

DEFAULT_TEMPLATE = (
    sa.select(templates.c.name)
    .where(templates.c.account_id == _p("account_id"), templates.c.is_default.is_(True))
    .order_by(templates.c.idtemplate)
    .limit(1)
)

ACCOUNT_PROFILES = (
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
)
