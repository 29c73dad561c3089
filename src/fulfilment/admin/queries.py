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
)

_p = sa.bindparam


class RequirementsRow(NamedTuple):
    require_staff_2fa: bool
    require_portal_2fa: bool


class TotalRow(NamedTuple):
    customer_count: int


class DeliveryDataRow(NamedTuple):
    iddelivery: int
    data: str


# Whether the account requires a second factor of its staff users, and of its customers.
REQUIREMENTS = Query(
    sa.select(accounts.c.require_staff_2fa, accounts.c.require_portal_2fa).where(
        accounts.c.id == _p("account_id")
    ),
    RequirementsRow,
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
