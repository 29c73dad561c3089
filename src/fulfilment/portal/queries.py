"""The statements behind the portal, built once and compiled once per dialect."""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa

from ..db import Query
from ..tables import fulfilment_customers as customers

_p = sa.bindparam

_in_account = (
    customers.c.account_id == _p("account_id"),
    customers.c.idfulfilment_customer == _p("id"),
)


class SecondFactorRow(NamedTuple):
    second_factor: bool


# Whether the customer of the portal's page (portal/service.py) has a second factor.
SECOND_FACTOR = Query(
    sa.select(customers.c.totp_secret.is_not(None).label("second_factor")).where(*_in_account),
    SecondFactorRow,
)
