"""The statements behind the customers resource, built once and compiled once per dialect."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, NamedTuple

import sqlalchemy as sa

from ..db import Query
from ..fields import CUSTOMER_FIELDS, LIST_FIELDS, OUTPUT_FIELDS, WRITABLE_FIELDS
from ..tables import (
    accounts,
    audit_events,
    customer_search,
    shipping_provider_profiles,
    templates,
    warehouses,
)
from ..tables import (
    fulfilment_customers as customers,
)

_p = sa.bindparam


# -- written by scripts/structs.py from the tables of fields.py: do not edit --


class CustomerRow(NamedTuple):
    """A customer's answer: GET one, INSERT and UPDATE."""

    idfulfilment_customer: int
    name: str
    can_login: bool
    username: str | None
    emailaddress: str | None
    language: str
    idtemplate: int | None
    last_login_at: datetime | str | None
    allowed_shipping_profiles: str
    preferred_idwarehouse: int | None


class CustomerListRow(NamedTuple):
    """A customer in a list page."""

    idfulfilment_customer: int
    name: str
    can_login: bool
    username: str | None
    emailaddress: str | None
    language: str
    idtemplate: int | None
    last_login_at: datetime | str | None
    preferred_idwarehouse: int | None


class CustomerStateRow(NamedTuple):
    """What a change starts from: the writable fields and the credentials' version."""

    name: str
    can_login: bool
    username: str | None
    password_hash: str | None
    emailaddress: str | None
    language: str
    idtemplate: int | None
    allowed_shipping_profiles: str
    preferred_idwarehouse: int | None
    credentials_version: int


# -- end of what scripts/structs.py writes --


class OwnerRow(NamedTuple):
    idfulfilment_customer: int


class FoundRow(NamedTuple):
    id: int


class ProfileIdRow(NamedTuple):
    idshippingprovider_profile: int


class PositionRow(NamedTuple):
    customer_count: int


class TimezoneRow(NamedTuple):
    timezone: str


class EventRow(NamedTuple):
    id: int
    action: Literal["create", "update", "login"]
    occurred_at: datetime | str  # SQLite's is text (see wire.format_datetime)
    actor_type: Literal["api_key", "staff", "portal"]
    actor_id: int
    actor_name: str
    changes: str


# The columns of a single-object answer and of a list item, in wire order (fields.py).
OBJECT_COLUMNS = tuple(customers.c[field.stored_as] for field in OUTPUT_FIELDS)
LIST_COLUMNS = tuple(customers.c[field.stored_as] for field in LIST_FIELDS)

_in_account = (
    customers.c.account_id == _p("account_id"),
    customers.c.idfulfilment_customer == _p("id"),
)

GET_ONE = Query(sa.select(*OBJECT_COLUMNS).where(*_in_account), CustomerRow)

# Positions are dense (1, 2, 3...) within an account, so offset N is "position > N".
PAGE = Query(
    sa.select(*LIST_COLUMNS)
    .where(customers.c.account_id == _p("account_id"), customers.c.position > _p("offset"))
    .order_by(customers.c.position)
    .limit(_p("limit")),
    CustomerListRow,
)

# `search`: a part of one of the case-folded fields. On PostgreSQL the planner serves the
# LIKEs from the trigram index (a rare term) or walks the account in order until the page
# is full (a common one). On SQLite the same LIKEs walk the account in order: SEARCH_PAGE
# serves terms too short for trigrams there, and SEARCH_INDEXED all others.
_SEARCH_COLUMNS = tuple(field.search_column for field in CUSTOMER_FIELDS if field.search_column)
_SEARCH_FIELDS = tuple(customers.c[column] for column in _SEARCH_COLUMNS)
_matches = sa.or_(*(field.like(_p("pattern"), escape="\\") for field in _SEARCH_FIELDS))
# The walk finds the page's ids in the index that carries the search columns (PostgreSQL,
# see the migration "search walk index"), then reads just those rows.
_SEARCH_PAGE_IDS = (
    sa.select(customers.c.idfulfilment_customer)
    .where(customers.c.account_id == _p("account_id"), _matches)
    .order_by(customers.c.position)
    .limit(_p("limit"))
    .offset(_p("offset"))
)
SEARCH_PAGE = Query(
    sa.select(*LIST_COLUMNS)
    .where(customers.c.idfulfilment_customer.in_(_SEARCH_PAGE_IDS.scalar_subquery()))
    .order_by(customers.c.position),
    CustomerListRow,
)
# SQLite, terms of three characters or more: the FTS5 trigram index yields matching ids in
# ascending order, which within an account is the order of positions (see NEXT_POSITION),
# so a page is the first matches of this account and the walk stops when it is full.
SEARCH_INDEXED = Query(
    sa.select(*LIST_COLUMNS)
    .select_from(
        customer_search.join(
            customers, customers.c.idfulfilment_customer == customer_search.c.rowid
        )
    )
    .where(
        customer_search.c.fulfilment_customer_search.op("MATCH")(_p("phrase")),
        customers.c.account_id == _p("account_id"),
    )
    .order_by(customer_search.c.rowid)
    .limit(_p("limit"))
    .offset(_p("offset")),
    CustomerListRow,
)

# The fields the rules need, locked for the rest of the transaction (PostgreSQL; SQLite's
# BEGIN IMMEDIATE already holds the write lock).
GET_FOR_UPDATE = Query(
    sa.select(
        *(customers.c[field.stored_as] for field in WRITABLE_FIELDS),
        customers.c.credentials_version,
    )
    .where(*_in_account)
    .with_for_update(),
    CustomerStateRow,
)

USERNAME_OWNER = Query(
    sa.select(customers.c.idfulfilment_customer).where(
        customers.c.account_id == _p("account_id"),
        customers.c.username_key == _p("username_key"),
    ),
    OwnerRow,
)

TEMPLATE_EXISTS = Query(
    sa.select(templates.c.idtemplate.label("id")).where(
        templates.c.account_id == _p("account_id"), templates.c.idtemplate == _p("id")
    ),
    FoundRow,
)
WAREHOUSE_EXISTS = Query(
    sa.select(warehouses.c.idwarehouse.label("id")).where(
        warehouses.c.account_id == _p("account_id"), warehouses.c.idwarehouse == _p("id")
    ),
    FoundRow,
)
ACCOUNT_PROFILES = Query(
    sa.select(shipping_provider_profiles.c.idshippingprovider_profile).where(
        shipping_provider_profiles.c.account_id == _p("account_id")
    ),
    ProfileIdRow,
)

# Taking the next position locks the account row first, so on PostgreSQL ids are drawn in
# the same order as positions and both orders agree.
_NEXT_POSITION = (
    sa.update(accounts)
    .where(accounts.c.id == _p("account_id"))
    .values(customer_count=accounts.c.customer_count + 1)
    .returning(accounts.c.customer_count)
)
NEXT_POSITION = Query(_NEXT_POSITION, PositionRow)

_WRITABLE = (
    *(field.stored_as for field in WRITABLE_FIELDS),
    "username_key",
    *_SEARCH_COLUMNS,
    "credentials_version",
    "updated_at",
)

# Both answer with the stored row, as GET one reads it: no second statement to read it back.
INSERT = Query(
    sa.insert(customers)
    .values(
        account_id=_p("account_id"),
        position=_p("position"),
        created_at=_p("updated_at"),
        **{name: _p(name) for name in _WRITABLE},
    )
    .returning(*OBJECT_COLUMNS),
    CustomerRow,
)

# PostgreSQL: the three writes of a create in one statement (data-modifying CTEs), one
# round trip instead of three: the next position, the row, and its audit event. SQLite has
# no writes inside WITH and runs NEXT_POSITION, INSERT and audit.INSERT_EVENT in turn.
_next_position = _NEXT_POSITION.cte("next_position")
_inserted = (
    sa.insert(customers)
    .from_select(
        ["account_id", "position", "created_at", *_WRITABLE],
        sa.select(
            _p("account_id", type_=sa.BigInteger),
            _next_position.c.customer_count,
            _p("updated_at", type_=sa.DateTime),
            *(_p(name, type_=customers.c[name].type) for name in _WRITABLE),
        ),
    )
    .returning(*OBJECT_COLUMNS)
    .cte("inserted")
)
# What an audit event is written with, in the order the selects below give the values.
_EVENT_COLUMNS = [
    "account_id",
    "idfulfilment_customer",
    "action",
    "actor_type",
    "actor_id",
    "actor_name",
    "changes",
    "occurred_at",
]


def _audit_event(written: sa.CTE, action: str, moment: str) -> sa.CTE:
    """The audit event of the row `written` (a CTE that wrote it), in the same statement."""
    return (
        sa.insert(audit_events)
        .from_select(
            _EVENT_COLUMNS,
            sa.select(
                _p("account_id", type_=sa.BigInteger),
                written.c.idfulfilment_customer,
                sa.literal(action),
                _p("actor_type", type_=sa.String),
                _p("actor_id", type_=sa.BigInteger),
                _p("actor_name", type_=sa.String),
                _p("changes", type_=sa.Text),
                _p(moment, type_=sa.DateTime),
            ),
        )
        .cte(f"{action}_audited")
    )


_audited = _audit_event(_inserted, "create", "updated_at")
INSERT_AUDITED = Query(
    sa.select(*(_inserted.c[c.name] for c in OBJECT_COLUMNS)).add_cte(_audited), CustomerRow
)

ACCOUNT_TIMEZONE = Query(
    sa.select(accounts.c.timezone).where(accounts.c.id == _p("account_id")), TimezoneRow
)

_UPDATE = (
    sa.update(customers)
    .where(*_in_account)
    .values(**{name: _p(name) for name in _WRITABLE})
    .returning(*OBJECT_COLUMNS)
)
UPDATE = Query(_UPDATE, CustomerRow)
# On PostgreSQL an update that changes something, with its audit event: one round trip.
_updated = _UPDATE.cte("updated")
_update_audited = _audit_event(_updated, "update", "occurred_at")
UPDATE_AUDITED = Query(
    sa.select(*(_updated.c[c.name] for c in OBJECT_COLUMNS)).add_cte(_update_audited),
    CustomerRow,
)

# The audit trail (see audit.py).
INSERT_EVENT = sa.insert(audit_events).values(
    account_id=_p("account_id"),
    idfulfilment_customer=_p("customer_id"),
    action=_p("action"),
    actor_type=_p("actor_type"),
    actor_id=_p("actor_id"),
    actor_name=_p("actor_name"),
    changes=_p("changes"),
    occurred_at=_p("occurred_at"),
)
CUSTOMER_EXISTS = Query(
    sa.select(customers.c.idfulfilment_customer).where(
        customers.c.account_id == _p("account_id"),
        customers.c.idfulfilment_customer == _p("id"),
    ),
    OwnerRow,
)
HISTORY_PAGE = Query(
    sa.select(
        audit_events.c.id,
        audit_events.c.action,
        audit_events.c.occurred_at,
        audit_events.c.actor_type,
        audit_events.c.actor_id,
        audit_events.c.actor_name,
        audit_events.c.changes,
    )
    .where(
        audit_events.c.account_id == _p("account_id"),
        audit_events.c.idfulfilment_customer == _p("id"),
    )
    .order_by(audit_events.c.id)
    .limit(_p("limit"))
    .offset(_p("offset")),
    EventRow,
)
