"""The statements behind the back office's pages, built once and compiled once per dialect
(the customers' own statements are the customers package's)."""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa

from ..db import Query
from ..tables import (
    accounts,
    hook_deliveries,
    hook_events,
    staff_users,
)
from ..tables import fulfilment_customers as customers

_p = sa.bindparam


class VersionRow(NamedTuple):
    credentials_version: int


class TotalRow(NamedTuple):
    customer_count: int


class DeliveryDataRow(NamedTuple):
    iddelivery: int
    data: str


# The portal sessions of a customer carry this number; ending them takes the current one.
CUSTOMER_VERSION = Query(
    sa.select(customers.c.credentials_version).where(
        customers.c.account_id == _p("account_id"),
        customers.c.idfulfilment_customer == _p("id"),
    ),
    VersionRow,
)
# Logging out ends every session of the staff user: a copied cookie stops working too.
END_STAFF_SESSIONS = (
    sa.update(staff_users)
    .where(
        staff_users.c.account_id == _p("account_id"),
        staff_users.c.iduser == _p("id"),
        staff_users.c.credentials_version == _p("version"),
    )
    .values(credentials_version=staff_users.c.credentials_version + 1)
)

# Customers are never deleted, so the account's counter (which numbers them) is their total.
CUSTOMER_TOTAL = Query(
    sa.select(accounts.c.customer_count).where(accounts.c.id == _p("account_id")), TotalRow
)

# The object each delivery of a page of the log was about (its payload's `data`), read
# beside the hooks service's page of the same deliveries.
DELIVERY_DATA = Query(
    sa.select(hook_deliveries.c.iddelivery, hook_events.c.data)
    .join(hook_events, hook_events.c.idevent == hook_deliveries.c.idevent)
    .where(hook_deliveries.c.account_id == _p("account_id"), hook_deliveries.c.idhook == _p("id"))
    .order_by(hook_deliveries.c.iddelivery.desc())
    .limit(_p("limit"))
    .offset(_p("offset")),
    DeliveryDataRow,
)
