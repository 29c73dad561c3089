"""The statements behind hooks, their outbox and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, NamedTuple

import sqlalchemy as sa

from ..db import Query
from ..jobs.queue import Queue
from ..tables import accounts, hook_attempts, hook_deliveries, hook_events, hooks
from . import schemas

_p = sa.bindparam
deliveries = hook_deliveries
attempts = hook_attempts
events = hook_events
_with_event = deliveries.join(events, events.c.idevent == deliveries.c.idevent)


class HookRow(NamedTuple):
    idhook: int
    name: str
    event: str
    address: str
    active: bool
    secret: str | None  # sealed
    created_at: datetime | str  # SQLite's are text (see wire.format_datetime)
    updated_at: datetime | str


class HookIdRow(NamedTuple):
    idhook: int


class AccountIdRow(NamedTuple):
    id: int


class CountRow(NamedTuple):
    active_hooks: int


class ChangingRow(NamedTuple):
    """What an update of a hook starts from."""

    name: str
    address: str
    secret: str | None
    event: str


class EventIdRow(NamedTuple):
    idevent: int


class DeliveryRow(NamedTuple):
    iddelivery: int
    event: str
    triggered_at: datetime | str
    state: Literal["pending", "delivered", "failed"]
    next_attempt_at: datetime | str | None


class AttemptRow(NamedTuple):
    iddelivery: int
    attempted_at: datetime | str
    status: int | None
    duration_ms: int
    error: str | None
    response: str | None


class ClaimedRow(NamedTuple):
    """A claimed delivery, with what its attempt needs (attempts.Delivery)."""

    iddelivery: int
    idhook: int
    event: str
    data: str
    triggered_at: datetime | str
    attempts: int
    name: str
    address: str
    secret: str | None
    timezone: str
    account_id: int


# Column order of a hook's answer. The (encrypted) secret itself, not `secret IS NOT NULL`:
# SQLite 3.40 answers that wrongly in an INSERT's RETURNING.
HOOK_COLUMNS = (
    hooks.c.idhook,
    hooks.c.name,
    hooks.c.event,
    hooks.c.address,
    hooks.c.active,
    hooks.c.secret,
    hooks.c.created_at,
    hooks.c.updated_at,
)
_in_account = (hooks.c.account_id == _p("account_id"), hooks.c.idhook == _p("id"))

GET_ONE = Query(sa.select(*HOOK_COLUMNS).where(*_in_account), HookRow)
PAGE = Query(
    sa.select(*HOOK_COLUMNS)
    .where(hooks.c.account_id == _p("account_id"))
    .order_by(hooks.c.idhook)
    .limit(_p("limit"))
    .offset(_p("offset")),
    HookRow,
)
SAME_ADDRESS = Query(
    sa.select(hooks.c.idhook).where(
        hooks.c.account_id == _p("account_id"),
        hooks.c.event == _p("event"),
        hooks.c.address == _p("address"),
    ),
    HookIdRow,
)
# The account's row, locked while its hooks are counted: two requests that each add a hook
# are counted one after the other (PostgreSQL; SQLite writes one at a time anyway).
LOCK_ACCOUNT = Query(
    sa.select(accounts.c.id).where(accounts.c.id == _p("account_id")).with_for_update(),
    AccountIdRow,
)
ACTIVE_COUNT = Query(
    sa.select(sa.func.count().label("active_hooks")).where(
        hooks.c.account_id == _p("account_id"), hooks.c.active.is_(True)
    ),
    CountRow,
)
INSERT = Query(
    sa.insert(hooks)
    .values(
        account_id=_p("account_id"),
        name=_p("name"),
        event=_p("event"),
        address=_p("address"),
        secret=_p("secret"),
        active=True,
        created_at=_p("now"),
        updated_at=_p("now"),
    )
    .returning(*HOOK_COLUMNS),
    HookRow,
)
FOR_UPDATE = Query(
    sa.select(hooks.c.name, hooks.c.address, hooks.c.secret, hooks.c.event)
    .where(*_in_account)
    .with_for_update(),
    ChangingRow,
)
UPDATE = Query(
    sa.update(hooks)
    .where(*_in_account)
    .values(
        name=_p("name"),
        address=_p("address"),
        secret=_p("secret"),
        updated_at=_p("now"),
    )
    .returning(*HOOK_COLUMNS),
    HookRow,
)
SET_ACTIVE = Query(
    sa.update(hooks)
    .where(*_in_account)
    .values(active=_p("active"), deactivated_because=_p("because"), updated_at=_p("now"))
    .returning(*HOOK_COLUMNS),
    HookRow,
)

# -- the outbox ---------------------------------------------------------------------------

# The event with its payload, stored once, when the account has an active hook on it.
_active_on_event = (
    hooks.c.account_id == _p("account_id"),
    hooks.c.event == _p("event"),
    hooks.c.active.is_(True),
)
_NEW_EVENT = (
    sa.insert(events)
    .from_select(
        ["account_id", "event", "data", "triggered_at"],
        sa.select(
            _p("account_id", type_=sa.BigInteger),
            _p("event", type_=sa.String),
            _p("data", type_=sa.Text),
            _p("now", type_=sa.DateTime),
        ).where(sa.exists().where(*_active_on_event)),
    )
    .returning(events.c.idevent)
)
NEW_EVENT = Query(_NEW_EVENT, EventIdRow)
# One delivery of the event for each active hook of the account on it, in one statement.
_DELIVERY_COLUMNS = ["account_id", "idhook", "idevent", "state", "attempts", "next_attempt_at"]
FAN_OUT = sa.insert(deliveries).from_select(
    _DELIVERY_COLUMNS,
    sa.select(
        hooks.c.account_id,
        hooks.c.idhook,
        _p("idevent", type_=sa.BigInteger),
        sa.literal("pending"),
        sa.literal(0),
        _p("now", type_=sa.DateTime),
    ).where(*_active_on_event),
)
# Both in one statement, where an INSERT may feed another (PostgreSQL): one round trip.
_new_event = _NEW_EVENT.cte("new_event")
ANNOUNCE = sa.insert(deliveries).from_select(
    _DELIVERY_COLUMNS,
    sa.select(
        hooks.c.account_id,
        hooks.c.idhook,
        _new_event.c.idevent,
        sa.literal("pending"),
        sa.literal(0),
        _p("now", type_=sa.DateTime),
    )
    .select_from(_new_event)
    .join(hooks, sa.true())
    .where(*_active_on_event),
)
# `ping`, to one hook whatever its state: an event of its own, and its one delivery.
PING_EVENT = Query(
    sa.insert(events)
    .values(account_id=_p("account_id"), event=schemas.PING, data="{}", triggered_at=_p("now"))
    .returning(events.c.idevent),
    EventIdRow,
)
PING = sa.insert(deliveries).from_select(
    _DELIVERY_COLUMNS,
    sa.select(
        hooks.c.account_id,
        hooks.c.idhook,
        _p("idevent", type_=sa.BigInteger),
        sa.literal("pending"),
        sa.literal(0),
        _p("now", type_=sa.DateTime),
    ).where(*_in_account),
)
# -- the delivery log ---------------------------------------------------------------------

DELIVERY_PAGE = Query(
    sa.select(
        deliveries.c.iddelivery,
        events.c.event,
        events.c.triggered_at,
        deliveries.c.state,
        deliveries.c.next_attempt_at,
    )
    .select_from(_with_event)
    .where(deliveries.c.idhook == _p("id"))
    .order_by(deliveries.c.iddelivery.desc())
    .limit(_p("limit"))
    .offset(_p("offset")),
    DeliveryRow,
)
ATTEMPTS_OF = Query(
    sa.select(
        attempts.c.iddelivery,
        attempts.c.attempted_at,
        attempts.c.status,
        attempts.c.duration_ms,
        attempts.c.error,
        attempts.c.response,
    )
    .where(
        attempts.c.iddelivery.in_(
            sa.select(deliveries.c.iddelivery)
            .where(deliveries.c.idhook == _p("id"))
            .order_by(deliveries.c.iddelivery.desc())
            .limit(_p("limit"))
            .offset(_p("offset"))
            .scalar_subquery()
        )
    )
    .order_by(attempts.c.idattempt.desc()),
    AttemptRow,
)

# -- the engine's kind ----------------------------------------------------------------------

# A hook's deliveries wait while it is inactive.
QUEUE = Queue(
    deliveries,
    ready=deliveries.c.idhook.in_(sa.select(hooks.c.idhook).where(hooks.c.active.is_(True))),
    done="delivered",
)
# What an attempt needs, for the deliveries a claim holds.
CLAIMED = Query(
    sa.select(
        deliveries.c.iddelivery,
        deliveries.c.idhook,
        events.c.event,
        events.c.data,
        events.c.triggered_at,
        deliveries.c.attempts,
        hooks.c.name,
        hooks.c.address,
        hooks.c.secret,
        accounts.c.timezone,
        deliveries.c.account_id,
    )
    .select_from(
        _with_event.join(hooks, hooks.c.idhook == deliveries.c.idhook).join(
            accounts, accounts.c.id == deliveries.c.account_id
        )
    )
    .where(deliveries.c.claimed_by == _p("claim")),
    ClaimedRow,
)
# An attempt, logged only while the claim is still ours (so before the engine finishes it).
LOG_CLAIMED_ATTEMPT = sa.insert(attempts).from_select(
    ["iddelivery", "attempted_at", "status", "duration_ms", "error", "response"],
    sa.select(
        _p("id", type_=sa.BigInteger),
        _p("attempted_at", type_=sa.DateTime),
        _p("status", type_=sa.Integer),
        _p("duration_ms", type_=sa.Integer),
        _p("error", type_=sa.String),
        _p("response", type_=sa.String),
    ).where(
        sa.exists().where(
            deliveries.c.iddelivery == _p("id"), deliveries.c.claimed_by == _p("claim")
        )
    ),
)
# A hook's last success, to the second: written at most once a second per hook, since each
# write leaves a row version behind that the claims read past until it is vacuumed.
SUCCEEDED = (
    sa.update(hooks)
    .where(
        hooks.c.idhook == _p("idhook"),
        sa.or_(hooks.c.last_success_at.is_(None), hooks.c.last_success_at < _p("now")),
    )
    .values(last_success_at=_p("now"))
)
# The published rule: a hook whose delivery has used up the whole schedule, with not one
# success of the hook since that delivery was recorded, is deactivated. (Only once the
# delivery is failed: a claim that ran out finished nothing.)
DEACTIVATE_FAILING = (
    sa.update(hooks)
    .where(
        hooks.c.idhook == _p("idhook"),
        hooks.c.active.is_(True),
        sa.or_(hooks.c.last_success_at.is_(None), hooks.c.last_success_at < _p("since")),
        sa.exists().where(deliveries.c.iddelivery == _p("id"), deliveries.c.state == "failed"),
    )
    .values(active=False, deactivated_because="failing", updated_at=_p("now"))
)
# Retention: finished deliveries (and their attempts, by cascade) past the window.
FORGET_ATTEMPTS = sa.delete(attempts).where(
    attempts.c.iddelivery.in_(
        sa.select(deliveries.c.iddelivery).where(
            deliveries.c.state != "pending", deliveries.c.finished_at < _p("before")
        )
    )
)
FORGET_DELIVERIES = sa.delete(deliveries).where(
    deliveries.c.state != "pending", deliveries.c.finished_at < _p("before")
)
# Events no delivery refers to any more (past the window: one just recorded has its
# deliveries written in the same transaction).
FORGET_EVENTS = sa.delete(events).where(
    events.c.triggered_at < _p("before"),
    ~sa.exists().where(deliveries.c.idevent == events.c.idevent),
)
