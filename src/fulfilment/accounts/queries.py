"""The statements behind accounts and API keys, built once and compiled once per dialect."""

from __future__ import annotations

import sqlalchemy as sa

from ..tables import accounts, api_keys, fulfilment_customers

_p = sa.bindparam

# Who is calling: a key that is not revoked, with its account.
FIND_KEY = (
    sa.select(
        api_keys.c.id,
        api_keys.c.account_id,
        api_keys.c.idfulfilment_customer,
        api_keys.c.name,
        accounts.c.subdomain,
        accounts.c.timezone,
    )
    .join(accounts, accounts.c.id == api_keys.c.account_id)
    .where(api_keys.c.key_hash == sa.bindparam("key_hash"), api_keys.c.revoked_at.is_(None))
)
SUBDOMAIN_TAKEN = sa.select(accounts.c.id).where(accounts.c.subdomain == sa.bindparam("subdomain"))

FIND_ACCOUNT = sa.select(
    accounts.c.id, accounts.c.subdomain, accounts.c.name, accounts.c.timezone
).where(accounts.c.subdomain == _p("subdomain"))
INSERT_ACCOUNT = (
    sa.insert(accounts)
    .values(
        subdomain=_p("subdomain"),
        name=_p("name"),
        timezone=_p("timezone"),
        customer_count=0,
        created_at=_p("created_at"),
    )
    .returning(accounts.c.id)
)
CUSTOMER_IN_ACCOUNT = sa.select(fulfilment_customers.c.idfulfilment_customer).where(
    fulfilment_customers.c.account_id == _p("account_id"),
    fulfilment_customers.c.idfulfilment_customer == _p("id"),
)
INSERT_KEY = (
    sa.insert(api_keys)
    .values(
        account_id=_p("account_id"),
        idfulfilment_customer=_p("idfulfilment_customer"),
        name=_p("name"),
        key_hash=_p("key_hash"),
        key_prefix=_p("key_prefix"),
        created_at=_p("created_at"),
        created_by_iduser=_p("created_by_iduser"),
    )
    .returning(api_keys.c.id)
)
REVOKE_KEY = (
    sa.update(api_keys)
    .where(
        api_keys.c.account_id == _p("account_id"),
        api_keys.c.id == _p("id"),
        api_keys.c.revoked_at.is_(None),
    )
    .values(revoked_at=_p("revoked_at"))
)
REVOKE_KEY_BY_HASH = (
    sa.update(api_keys)
    .where(api_keys.c.key_hash == _p("key_hash"), api_keys.c.revoked_at.is_(None))
    .values(revoked_at=_p("revoked_at"))
)
LIST_KEYS = (
    sa.select(
        api_keys.c.id,
        api_keys.c.name,
        api_keys.c.key_prefix,
        api_keys.c.idfulfilment_customer,
        api_keys.c.created_at,
        api_keys.c.revoked_at,
        api_keys.c.last_used_at,
    )
    .where(api_keys.c.account_id == _p("account_id"))
    .order_by(api_keys.c.id)
)
# A key used since the last time, unless another worker wrote its time less than a minute ago.
RECORD_KEY_USED = (
    sa.update(api_keys)
    .where(
        api_keys.c.id == _p("id"),
        sa.or_(api_keys.c.last_used_at.is_(None), api_keys.c.last_used_at < _p("before")),
    )
    .values(last_used_at=_p("at"))
)
