"""The statements behind accounts and API keys, built once and compiled once per dialect."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from ..db import Query
from ..tables import (
    account_events,
    accounts,
    api_keys,
    audit_events,
    fulfilment_customers,
    staff_users,
)

_p = sa.bindparam

# SQLite's times are text (see clock.as_datetime).
Moment = datetime | str


class AccountRow(NamedTuple):
    id: int
    subdomain: str
    name: str
    timezone: str


class IdRow(NamedTuple):
    id: int


class RevokedRow(NamedTuple):
    id: int
    account_id: int
    name: str


class KeyRow(NamedTuple):
    id: int
    name: str
    key_prefix: str
    idfulfilment_customer: int | None
    created_at: Moment | None
    revoked_at: Moment | None
    last_used_at: Moment | None


class KeyListingRow(NamedTuple):
    id: int
    name: str
    key_prefix: str
    idfulfilment_customer: int | None
    customer_name: str | None
    created_by: str | None
    created_at: Moment
    last_used_at: Moment | None
    revoked_at: Moment | None


class SettingsRow(NamedTuple):
    name: str
    timezone: str
    require_staff_2fa: bool
    require_portal_2fa: bool


class EventRow(NamedTuple):
    """An entry of the account's audit log."""

    subject: str
    subject_id: int
    subject_name: str
    action: str
    actor_type: str
    actor_id: int
    actor_name: str
    changes: str
    occurred_at: Moment


FIND_ACCOUNT = Query(
    sa.select(accounts.c.id, accounts.c.subdomain, accounts.c.name, accounts.c.timezone).where(
        accounts.c.subdomain == _p("subdomain")
    ),
    AccountRow,
)
INSERT_ACCOUNT = Query(
    sa.insert(accounts)
    .values(
        subdomain=_p("subdomain"),
        name=_p("name"),
        timezone=_p("timezone"),
        customer_count=0,
        created_at=_p("created_at"),
    )
    .returning(accounts.c.id),
    IdRow,
)
CUSTOMER_IN_ACCOUNT = Query(
    sa.select(fulfilment_customers.c.idfulfilment_customer.label("id")).where(
        fulfilment_customers.c.account_id == _p("account_id"),
        fulfilment_customers.c.idfulfilment_customer == _p("id"),
    ),
    IdRow,
)
INSERT_KEY = Query(
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
    .returning(api_keys.c.id),
    IdRow,
)
REVOKE_KEY = Query(
    sa.update(api_keys)
    .where(
        api_keys.c.account_id == _p("account_id"),
        api_keys.c.id == _p("id"),
        api_keys.c.revoked_at.is_(None),
    )
    .values(revoked_at=_p("revoked_at"))
    .returning(api_keys.c.id, api_keys.c.account_id, api_keys.c.name),
    RevokedRow,
)
REVOKE_KEY_BY_HASH = Query(
    sa.update(api_keys)
    .where(api_keys.c.key_hash == _p("key_hash"), api_keys.c.revoked_at.is_(None))
    .values(revoked_at=_p("revoked_at"))
    .returning(api_keys.c.id, api_keys.c.account_id, api_keys.c.name),
    RevokedRow,
)
LIST_KEYS = Query(
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
    .order_by(api_keys.c.id),
    KeyRow,
)
# The back office's list of keys: who made each, and the customer a scoped one is for.
_KEY_LISTING = (
    sa.select(
        api_keys.c.id,
        api_keys.c.name,
        api_keys.c.key_prefix,
        api_keys.c.idfulfilment_customer,
        fulfilment_customers.c.name.label("customer_name"),
        staff_users.c.username.label("created_by"),
        api_keys.c.created_at,
        api_keys.c.last_used_at,
        api_keys.c.revoked_at,
    )
    .outerjoin(
        fulfilment_customers,
        fulfilment_customers.c.idfulfilment_customer == api_keys.c.idfulfilment_customer,
    )
    .outerjoin(staff_users, staff_users.c.iduser == api_keys.c.created_by_iduser)
    .where(api_keys.c.account_id == _p("account_id"))
)
KEY_PAGE = Query(
    _KEY_LISTING.order_by(api_keys.c.revoked_at.is_not(None), api_keys.c.id.desc())
    .limit(_p("limit"))
    .offset(_p("offset")),
    KeyListingRow,
)
KEY_LISTED = Query(_KEY_LISTING.where(api_keys.c.id == _p("id")), KeyListingRow)
# An account's settings, locked while they change (on PostgreSQL; SQLite writes one at a time).
SETTINGS_FOR_UPDATE = Query(
    sa.select(
        accounts.c.name,
        accounts.c.timezone,
        accounts.c.require_staff_2fa,
        accounts.c.require_portal_2fa,
    )
    .where(accounts.c.id == _p("account_id"))
    .with_for_update(),
    SettingsRow,
)
UPDATE_SETTINGS = (
    sa.update(accounts)
    .where(accounts.c.id == _p("account_id"))
    .values(
        name=_p("name"),
        timezone=_p("timezone"),
        require_staff_2fa=_p("required"),
        require_portal_2fa=_p("portal_required"),
    )
)

# -- the account's audit trail -----------------------------------------------------------

INSERT_ACCOUNT_EVENT = sa.insert(account_events).values(
    account_id=_p("account_id"),
    subject=_p("subject"),
    subject_id=_p("subject_id"),
    subject_name=_p("subject_name"),
    action=_p("action"),
    actor_type=_p("actor_type"),
    actor_id=_p("actor_id"),
    actor_name=_p("actor_name"),
    changes=_p("changes"),
    occurred_at=_p("occurred_at"),
)


def _who_and_what(table: sa.Table, subject: sa.ColumnElement[str]) -> list[sa.ColumnElement[bool]]:
    """The audit log's filters: `who_type` "" is anyone, `who_id` -1 any id of that type;
    `what` "" is every kind of change."""
    return [
        table.c.account_id == _p("account_id"),
        sa.or_(_p("who_type") == "", table.c.actor_type == _p("who_type")),
        sa.or_(_p("who_id") == -1, table.c.actor_id == _p("who_id")),
        sa.or_(_p("what") == "", subject == _p("what")),
    ]


def _newest(statement: sa.Select[Any], table: sa.Table) -> sa.Subquery:
    # Each side stops at the rows the page can reach, read newest first by its index.
    return (
        statement.order_by(table.c.occurred_at.desc(), table.c.id.desc())
        .limit(_p("upto"))
        .subquery()
    )


_customer_events = _newest(
    sa.select(
        sa.literal("customer", sa.String).label("subject"),
        audit_events.c.idfulfilment_customer.label("subject_id"),
        # The customer's name is looked up for the rows of the page only (below).
        sa.literal("", sa.String).label("subject_name"),
        audit_events.c.action,
        audit_events.c.actor_type,
        audit_events.c.actor_id,
        audit_events.c.actor_name,
        audit_events.c.changes,
        audit_events.c.occurred_at,
        audit_events.c.id,
    )
    # A login is no change.
    .where(
        audit_events.c.action != "login",
        *_who_and_what(audit_events, sa.literal("customer", sa.String)),
    ),
    audit_events,
)
_account_events = _newest(
    sa.select(
        account_events.c.subject,
        account_events.c.subject_id,
        account_events.c.subject_name,
        account_events.c.action,
        account_events.c.actor_type,
        account_events.c.actor_id,
        account_events.c.actor_name,
        account_events.c.changes,
        account_events.c.occurred_at,
        account_events.c.id,
    ).where(*_who_and_what(account_events, account_events.c.subject)),
    account_events,
)
_both = sa.union_all(sa.select(_customer_events), sa.select(_account_events)).subquery()
_newest_first = (_both.c.occurred_at.desc(), _both.c.subject, _both.c.id.desc())
_page = sa.select(_both).order_by(*_newest_first).limit(_p("limit")).offset(_p("offset")).subquery()
# The account's audit log: customer changes and account changes together, newest first.
EVENTS_PAGE = Query(
    sa.select(
        _page.c.subject,
        _page.c.subject_id,
        sa.func.coalesce(fulfilment_customers.c.name, _page.c.subject_name).label("subject_name"),
        _page.c.action,
        _page.c.actor_type,
        _page.c.actor_id,
        _page.c.actor_name,
        _page.c.changes,
        _page.c.occurred_at,
    )
    .outerjoin(
        fulfilment_customers,
        sa.and_(
            _page.c.subject == "customer",
            fulfilment_customers.c.idfulfilment_customer == _page.c.subject_id,
        ),
    )
    .order_by(_page.c.occurred_at.desc(), _page.c.subject, _page.c.id.desc()),
    EventRow,
)
