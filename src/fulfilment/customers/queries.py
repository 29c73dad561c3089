"""The statements behind the customers resource, built once and compiled once per dialect."""

from __future__ import annotations

import sqlalchemy as sa

from ..tables import (
    accounts,
    shipping_provider_profiles,
    templates,
    warehouses,
)
from ..tables import (
    fulfilment_customers as customers,
)

_p = sa.bindparam

# Column order of a single-object answer, and of a list item (no allowed_shipping_profiles).
OBJECT_COLUMNS = (
    customers.c.idfulfilment_customer,
    customers.c.name,
    customers.c.can_login,
    customers.c.username,
    customers.c.emailaddress,
    customers.c.language,
    customers.c.idtemplate,
    customers.c.last_login_at,
    customers.c.allowed_shipping_profiles,
    customers.c.preferred_idwarehouse,
)
LIST_COLUMNS = tuple(c for c in OBJECT_COLUMNS if c.name != "allowed_shipping_profiles")

_in_account = (
    customers.c.account_id == _p("account_id"),
    customers.c.idfulfilment_customer == _p("id"),
)

GET_ONE = sa.select(*OBJECT_COLUMNS).where(*_in_account)

# Positions are dense (1, 2, 3...) within an account, so offset N is "position > N".
PAGE = (
    sa.select(*LIST_COLUMNS)
    .where(customers.c.account_id == _p("account_id"), customers.c.position > _p("offset"))
    .order_by(customers.c.position)
    .limit(_p("limit"))
)
SEARCH_PAGE = (
    sa.select(*LIST_COLUMNS)
    .where(
        customers.c.account_id == _p("account_id"),
        customers.c.search_text.like(_p("pattern"), escape="\\"),
    )
    .order_by(customers.c.position)
    .limit(_p("limit"))
    .offset(_p("offset"))
)

# The fields the rules need, locked for the rest of the transaction (PostgreSQL; SQLite's
# BEGIN IMMEDIATE already holds the write lock).
GET_FOR_UPDATE = (
    sa.select(
        customers.c.name,
        customers.c.can_login,
        customers.c.username,
        customers.c.password_hash,
        customers.c.emailaddress,
        customers.c.language,
        customers.c.idtemplate,
        customers.c.allowed_shipping_profiles,
        customers.c.preferred_idwarehouse,
        customers.c.credentials_version,
    )
    .where(*_in_account)
    .with_for_update()
)

USERNAME_OWNER = sa.select(customers.c.idfulfilment_customer).where(
    customers.c.account_id == _p("account_id"), customers.c.username_key == _p("username_key")
)

TEMPLATE_EXISTS = sa.select(templates.c.idtemplate).where(
    templates.c.account_id == _p("account_id"), templates.c.idtemplate == _p("id")
)
WAREHOUSE_EXISTS = sa.select(warehouses.c.idwarehouse).where(
    warehouses.c.account_id == _p("account_id"), warehouses.c.idwarehouse == _p("id")
)
ACCOUNT_PROFILES = sa.select(shipping_provider_profiles.c.idshippingprovider_profile).where(
    shipping_provider_profiles.c.account_id == _p("account_id")
)

# Taking the next position locks the account row first, so on PostgreSQL ids are drawn in
# the same order as positions and both orders agree.
NEXT_POSITION = (
    sa.update(accounts)
    .where(accounts.c.id == _p("account_id"))
    .values(customer_count=accounts.c.customer_count + 1)
    .returning(accounts.c.customer_count)
)

_WRITABLE = (
    "name",
    "can_login",
    "username",
    "username_key",
    "password_hash",
    "emailaddress",
    "language",
    "idtemplate",
    "allowed_shipping_profiles",
    "preferred_idwarehouse",
    "search_text",
    "credentials_version",
    "updated_at",
)

# Both answer with the stored row, as GET one reads it: no second statement to read it back.
INSERT = (
    sa.insert(customers)
    .values(
        account_id=_p("account_id"),
        position=_p("position"),
        created_at=_p("updated_at"),
        **{name: _p(name) for name in _WRITABLE},
    )
    .returning(*OBJECT_COLUMNS)
)

UPDATE = (
    sa.update(customers)
    .where(*_in_account)
    .values(**{name: _p(name) for name in _WRITABLE})
    .returning(*OBJECT_COLUMNS)
)

SET_LAST_LOGIN = sa.update(customers).where(*_in_account).values(last_login_at=_p("last_login_at"))
