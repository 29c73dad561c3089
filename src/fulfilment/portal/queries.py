"""The statements behind the portal, built once and compiled once per dialect."""

from __future__ import annotations

import sqlalchemy as sa

from ..customers.queries import OBJECT_COLUMNS
from ..tables import fulfilment_customers as customers

_p = sa.bindparam

_in_account = (
    customers.c.account_id == _p("account_id"),
    customers.c.idfulfilment_customer == _p("id"),
)

# What a login needs, looked up by the key the API keeps usernames unique by.
LOGIN = sa.select(
    customers.c.idfulfilment_customer,
    customers.c.can_login,
    customers.c.password_hash,
    customers.c.credentials_version,
    customers.c.username,
).where(customers.c.account_id == _p("account_id"), customers.c.username_key == _p("username_key"))

# A session is good while the customer may log in and its credentials are the ones it had.
# The password's hash first, then every field an answer has (customers.service.to_customer).
SESSION_CUSTOMER = sa.select(customers.c.password_hash, *OBJECT_COLUMNS).where(
    *_in_account,
    customers.c.can_login.is_(True),
    customers.c.credentials_version == _p("version"),
)

# Who a forgotten password is asked for (portal/recovery.py): customers that may log in and
# have an address, named by username or by address (a few may share one).
_recoverable = (
    customers.c.account_id == _p("account_id"),
    customers.c.can_login.is_(True),
    customers.c.emailaddress.is_not(None),
)
_recovery_columns = (
    customers.c.idfulfilment_customer,
    customers.c.username,
    customers.c.emailaddress,
    customers.c.language,
)
RECOVERY_BY_USERNAME = sa.select(*_recovery_columns).where(
    *_recoverable, customers.c.username_key == _p("username_key")
)
RECOVERY_BY_EMAIL = (
    sa.select(*_recovery_columns)
    .where(*_recoverable, customers.c.search_email == _p("search_email"))
    .order_by(customers.c.idfulfilment_customer)
    .limit(_p("limit"))
)
# An invitation: any customer with a username and an address.
INVITEE = sa.select(*_recovery_columns).where(
    *_in_account, customers.c.username.is_not(None), customers.c.emailaddress.is_not(None)
)
INVITEE_EXISTS = sa.select(customers.c.idfulfilment_customer).where(*_in_account)
