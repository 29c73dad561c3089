"""The fulfilment customers resource: reads, creation and updates through the API, and the
customer's own changes through the portal and links sent by mail (checks: rules.py)."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET

from ..actors import Actor, encode
from ..auth import Principal, zone
from ..clock import utcnow
from ..db import Connection, Database
from ..errors import CustomerNotFound, UsernameTaken
from ..hooks import outbox
from ..passwords import hash_password
from ..pending_links import void_links
from ..wire import PAGE_SIZE
from . import audit, queries
from .rows import State, audited, read_state, stored, to_customer, to_list_item
from .rules import (
    check_references,
    check_username_free,
    clean_password,
    cleaned,
    require_login_details,
)
from .schemas import Customer, CustomerCreate, CustomerListItem, CustomerUpdate

# -- reading ------------------------------------------------------------------------------


async def get_customer(
    database: Database, principal: Principal, customer_id: int | None
) -> Customer:
    """One of the account's customers; CustomerNotFound otherwise."""
    if customer_id is None:
        raise CustomerNotFound(0)
    key = {"account_id": principal.account_id, "id": customer_id}
    row = await database.read(lambda c: c.one(queries.GET_ONE, key))
    if row is None:
        raise CustomerNotFound(customer_id)
    return to_customer(row, principal.timezone)


def search_pattern(term: str) -> str:
    """A LIKE pattern for a part of a field."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_phrase(term: str) -> str:
    """An FTS5 query for a part of a field: one phrase, which the trigram tokenizer
    matches as a substring of a single column."""
    return '"' + term.replace('"', '""') + '"'


# The trigram index serves terms of at least this many characters.
TRIGRAM = 3


async def list_customers(
    database: Database, principal: Principal, offset: int, search: str | None
) -> list[CustomerListItem]:
    """One page of the account's customers, filtered by `search` when given."""
    values: dict[str, Any] = {
        "account_id": principal.account_id,
        "offset": offset,
        "limit": PAGE_SIZE,
    }
    if not search:
        rows = await database.read(lambda c: c.all(queries.PAGE, values))
    else:
        term = search.casefold()
        if database.is_sqlite and len(term) >= TRIGRAM:
            values["phrase"] = search_phrase(term)
            statement = queries.SEARCH_INDEXED
        else:
            values["pattern"] = search_pattern(term)
            statement = queries.SEARCH_PAGE
        rows = await database.read(
            lambda c: c.all(statement, values), heavy_for=principal.account_id
        )
    timezone = principal.timezone
    return [to_list_item(row, timezone) for row in rows]


async def announce_change(connection: Connection, account_id: int, customer_id: int) -> None:
    """The hooks' `customer_changed` for a change whose statement did not answer with the
    row (identity/'s changes of credentials): the row is read again, in the same
    transaction."""
    key = {"account_id": account_id, "id": customer_id}
    row = await connection.one(queries.GET_ONE, key)
    account = await connection.one(queries.ACCOUNT_TIMEZONE, {"account_id": account_id})
    assert row is not None
    assert account is not None
    await outbox.customer_changed(connection, account_id, to_customer(row, zone(account.timezone)))


# -- writing ------------------------------------------------------------------------------


async def create_customer(
    database: Database, principal: Principal, body: CustomerCreate
) -> Customer:
    """Create a customer in the principal's account and return it."""
    password = clean_password(body.password) if body.password is not UNSET else None
    state: State = {**cleaned(body), "password": None, "credentials_version": 0}
    require_login_details(state["can_login"], state["username"], password is not None)
    if password is not None:
        state["password"] = await hash_password(password)
    account_id = principal.account_id

    async def insert(connection: Connection) -> queries.CustomerRow:
        await check_references(connection, account_id, state)
        await check_username_free(connection, account_id, state["username"], None)
        actor = Actor.api_key(principal)
        changed = audit.changes({}, audited(state))
        values = {**stored(state), "account_id": account_id}
        try:
            if not database.is_sqlite:
                values.update(actor_type=actor.type, actor_id=actor.id, actor_name=actor.name)
                values["changes"] = encode(changed)
                row = await connection.one(queries.INSERT_AUDITED, values)
                assert row is not None
                return row
            position = await connection.one(queries.NEXT_POSITION, {"account_id": account_id})
            assert position is not None
            values["position"] = position.customer_count
            row = await connection.one(queries.INSERT, values)
        except database.IntegrityError:
            # Another request took the username between our check and the insert.
            raise UsernameTaken(state["username"] or "") from None
        assert row is not None
        customer_id = row.idfulfilment_customer
        await audit.record(connection, account_id, customer_id, "create", actor, changed)
        return row

    async def insert_and_announce(connection: Connection) -> Customer:
        customer = to_customer(await insert(connection), principal.timezone)
        await outbox.customer_created(connection, account_id, customer)
        return customer

    return await database.write(insert_and_announce)


async def update_customer(
    database: Database, principal: Principal, customer_id: int | None, body: CustomerUpdate
) -> Customer:
    """Apply the fields the body carries to a customer and return it."""
    if customer_id is None:
        raise CustomerNotFound(0)
    sent = cleaned(body)
    if body.password is not UNSET:
        sent["password"] = await hash_password(clean_password(body.password))
    account_id = principal.account_id
    key = {"account_id": account_id, "id": customer_id}
    zone = principal.timezone

    async def update(connection: Connection) -> queries.CustomerRow:
        current = await connection.one(queries.GET_FOR_UPDATE, key)
        if current is None:
            raise CustomerNotFound(customer_id)
        state = read_state(current)
        was_allowed = state["can_login"]
        before = audited(state)
        state.update(sent)
        require_login_details(state["can_login"], state["username"], state["password"] is not None)
        await check_references(connection, account_id, sent)
        username = sent.get("username")
        if username is not None:
            await check_username_free(connection, account_id, username, customer_id)
        credentials_changed = "password" in sent or (was_allowed and not state["can_login"])
        if credentials_changed:
            # Portal sessions carry this number; a new one ends them.
            state["credentials_version"] += 1
            # And the customer's pending links (a reset, an invitation, a new address) are
            # void: an invitation never turns a login switched off back on.
            await void_links(connection, "customer", account_id, customer_id)
        changed = audit.changes(before, audited(state))
        actor = Actor.api_key(principal)
        values = {**stored(state), **key}
        # PostgreSQL writes the audit event with the update, in one statement.
        together = bool(changed) and not database.is_sqlite
        if together:
            values.update(
                actor_type=actor.type,
                actor_id=actor.id,
                actor_name=actor.name,
                changes=encode(changed),
                occurred_at=utcnow(),
            )
        try:
            row = await connection.one(
                queries.UPDATE_AUDITED if together else queries.UPDATE, values
            )
        except database.IntegrityError:
            raise UsernameTaken(state["username"] or "") from None
        assert row is not None
        if changed:
            await outbox.customer_changed(connection, account_id, to_customer(row, zone))
            if not together:
                await audit.record(connection, account_id, customer_id, "update", actor, changed)
        return row

    return to_customer(await database.write(update), principal.timezone)
