"""The rules of the fulfilment customers resource: validation, creation, updates, reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

import msgspec
from msgspec import UNSET

from ..auth import Principal
from ..clock import utcnow
from ..db import Connection, Database, Row
from ..errors import CustomerNotFound, InvalidInput, UsernameTaken
from ..fields import (
    CUSTOMER_FIELDS,
    LIST_FIELDS,
    NAME_MAX,
    OUTPUT_FIELDS,
    WRITABLE_FIELDS,
    Field,
    check_email,
    check_username,
    username_key,
)
from ..hooks import outbox
from ..identity.kinds import CUSTOMER, void_links
from ..passwords import hash_password
from ..wire import PAGE_SIZE, format_datetime
from . import audit, queries
from .schemas import Customer, CustomerCreate, CustomerListItem, CustomerUpdate

_profiles = msgspec.json.Decoder(list[int])
_encoder = msgspec.json.Encoder()

# How a stored value becomes a field's value, by kind (the others are stored as they are).
_FROM_COLUMN: dict[str, Callable[[Any], Any]] = {
    "flag": bool,  # SQLite stores 0 and 1
    "references": _profiles.decode,  # a JSON array in a text column
}
_TO_COLUMN: dict[str, Callable[[Any], Any]] = {
    "references": lambda ids: _encoder.encode(ids).decode(),
}
Answer = TypeVar("Answer", Customer, CustomerListItem)


class _Reader(Generic[Answer]):
    """A row of the statement that selects `fields`' columns, as `struct`. Which value
    goes to which field, and which need converting, is worked out by name once, here; the
    struct's fields are the statement's columns in the same order (asserted), so each row
    is passed on as it is, with a few values converted."""

    def __init__(self, struct: type[Answer], fields: tuple[Field, ...]) -> None:
        names = tuple(field.name for field in fields)
        assert struct.__struct_fields__ == names, (struct, names)
        self.struct: type[Answer] = struct
        self.positions = {name: position for position, name in enumerate(names)}
        self.converted = tuple(
            (self.positions[field.name], _FROM_COLUMN[field.kind])
            for field in fields
            if field.kind in _FROM_COLUMN
        )
        self.datetimes = tuple(
            self.positions[field.name] for field in fields if field.kind == "datetime"
        )

    def __call__(self, row: Row, timezone: ZoneInfo) -> Answer:
        values = list(row)
        for position, convert in self.converted:
            values[position] = convert(values[position])
        for position in self.datetimes:
            values[position] = format_datetime(values[position], timezone)
        answer: Answer = self.struct(*values)
        return answer

    def value(self, row: Row, name: str) -> Any:
        """One field of a row, as stored."""
        return row[self.positions[name]]


# Rows of queries.OBJECT_COLUMNS and queries.LIST_COLUMNS.
to_customer = _Reader(Customer, OUTPUT_FIELDS)
to_list_item = _Reader(CustomerListItem, LIST_FIELDS)


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


# -- validating ---------------------------------------------------------------------------


def _text(field: str, value: str) -> str:
    """Refuse strings a database cannot store: lone surrogates and NUL characters."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{field} contains characters that are not valid Unicode.") from None
    if "\x00" in value:
        raise InvalidInput(f"{field} may not contain NUL characters.")
    return value


def clean_name(name: str) -> str:
    """The name, checked: not empty, at most NAME_MAX characters, storable."""
    name = _text("name", name).strip()
    if not name:
        raise InvalidInput("name may not be empty.")
    if len(name) > NAME_MAX:
        raise InvalidInput(f"name must be at most {NAME_MAX} characters.")
    return name


def _checked(field: str, value: str | None, check: Callable[[str], str]) -> str | None:
    """`value` when it is storable and passes `check` (fields.py's rule); None stays None."""
    if value is None:
        return None
    _text(field, value)
    try:
        return check(value)
    except ValueError as problem:
        raise InvalidInput(f"{field} {problem}.") from None


def clean_username(username: str | None) -> str | None:
    """The username, checked against the username rules; None stays None."""
    return _checked("username", username, check_username)


def clean_email(emailaddress: str | None) -> str | None:
    """The e-mail address, checked against the address rules; None stays None."""
    return _checked("emailaddress", emailaddress, check_email)


def clean_password(password: str) -> str:
    """The password, checked that a database can store it."""
    return _text("password", password)


def unique_in_order(ids: list[int]) -> list[int]:
    """`ids` without repeats, in their first order."""
    return list(dict.fromkeys(ids))


def require_login_details(can_login: bool, username: str | None, has_password: bool) -> None:
    """A customer that may log in needs something to log in with."""
    if can_login and username is None:
        raise InvalidInput("username is required when can_login is true.")
    if can_login and not has_password:
        raise InvalidInput("password is required when can_login is true.")


# What the service checks beyond the structs' limits, by kind: (field name, value) -> the
# value to store. Other kinds are stored as sent; the password is hashed by the writers.
_CLEAN: dict[str, Callable[[str, Any], Any]] = {
    "name": lambda _, name: clean_name(name),
    "username": lambda _, username: clean_username(username),
    "email": lambda _, emailaddress: clean_email(emailaddress),
    "text": lambda field, text: _checked(field, text, str),
    "references": lambda _, ids: unique_in_order(ids),
}
_CLEANED = tuple(
    (field.name, _CLEAN.get(field.kind)) for field in WRITABLE_FIELDS if not field.write_only
)


def _cleaned(body: CustomerCreate | CustomerUpdate) -> dict[str, Any]:
    """The fields the body carries (a create: all of them), checked, in table order."""
    sent: dict[str, Any] = {}
    for name, clean in _CLEANED:
        value = getattr(body, name)
        if value is not UNSET:
            sent[name] = value if clean is None else clean(name, value)
    return sent


# A customer's writable state, as stored: field name -> value (the password: its hash),
# and its credentials_version.
State = dict[str, Any]
_STATE = (*(field.name for field in WRITABLE_FIELDS), "credentials_version")
_STATE_CONVERTED = tuple(
    (field.name, _FROM_COLUMN[field.kind])
    for field in WRITABLE_FIELDS
    if field.kind in _FROM_COLUMN
)
_AUDITED = tuple((field.audited_as, field.name) for field in WRITABLE_FIELDS if field.audited_as)
_STORED = tuple(
    (field.stored_as, field.name, _TO_COLUMN.get(field.kind)) for field in WRITABLE_FIELDS
)
_SEARCHED = tuple(
    (field.search_column, field.name) for field in CUSTOMER_FIELDS if field.search_column
)
# Checked against the account's objects: single ids first, then lists, each in table order.
_REFERENCES = tuple(field for field in WRITABLE_FIELDS if field.kind == "reference")
_REFERENCE_LISTS = tuple(field for field in WRITABLE_FIELDS if field.kind == "references")
_EXISTS = {"template": queries.TEMPLATE_EXISTS, "warehouse": queries.WAREHOUSE_EXISTS}
_ACCOUNT_IDS = {"shipping profile": queries.ACCOUNT_PROFILES}


def _read_state(row: Row) -> State:
    """A row of queries.GET_FOR_UPDATE, by field name."""
    state = dict(zip(_STATE, row, strict=True))
    for name, convert in _STATE_CONVERTED:
        state[name] = convert(state[name])
    return state


def _audited(state: State) -> dict[str, Any]:
    """What the audit trail compares, under each field's audit label; the hash stands in
    for the password and is never written out (see audit.changes)."""
    return {label: state[name] for label, name in _AUDITED}


def _stored(state: State) -> dict[str, Any]:
    """The values of queries' writable columns."""
    values = {
        column: state[name] if convert is None else convert(state[name])
        for column, name, convert in _STORED
    }
    username = state["username"]
    values["username_key"] = username_key(username) if username is not None else None
    for column, name in _SEARCHED:
        values[column] = (state[name] or "").casefold()
    values["credentials_version"] = state["credentials_version"]
    values["updated_at"] = utcnow()
    return values


def _check_login(state: State) -> None:
    require_login_details(state["can_login"], state["username"], state["password"] is not None)


async def _check_references(connection: Connection, account_id: int, sent: dict[str, Any]) -> None:
    """Refuse ids among the `sent` fields that name no object of the account."""
    for field in _REFERENCES:
        value = sent.get(field.name)
        if value is None:
            continue
        assert field.refers_to is not None
        found = await connection.one(
            _EXISTS[field.refers_to], {"account_id": account_id, "id": value}
        )
        if found is None:
            raise InvalidInput(f"{field.name} {value} is not a {field.refers_to} of this account.")
    for field in _REFERENCE_LISTS:
        ids = sent.get(field.name)
        if not ids:
            continue
        assert field.refers_to is not None
        rows = await connection.all(_ACCOUNT_IDS[field.refers_to], {"account_id": account_id})
        known = {row[0] for row in rows}
        for value in ids:
            if value not in known:
                raise InvalidInput(
                    f"{field.name} {value} is not a {field.refers_to} of this account."
                )


async def _check_username_free(
    connection: Connection, account_id: int, username: str | None, customer_id: int | None
) -> None:
    if username is None:
        return
    owner = await connection.one(
        queries.USERNAME_OWNER, {"account_id": account_id, "username_key": username_key(username)}
    )
    if owner is not None and owner[0] != customer_id:
        raise UsernameTaken(username)


# -- writing ------------------------------------------------------------------------------


async def create_customer(
    database: Database, principal: Principal, body: CustomerCreate
) -> Customer:
    """Create a customer in the principal's account and return it."""
    password = clean_password(body.password) if body.password is not UNSET else None
    state: State = {**_cleaned(body), "password": None, "credentials_version": 0}
    require_login_details(state["can_login"], state["username"], password is not None)
    if password is not None:
        state["password"] = await hash_password(password)
    account_id = principal.account_id

    async def insert(connection: Connection) -> Row:
        await _check_references(connection, account_id, state)
        await _check_username_free(connection, account_id, state["username"], None)
        actor = audit.Actor.api_key(principal)
        changed = audit.changes({}, _audited(state))
        values = {**_stored(state), "account_id": account_id}
        try:
            if not database.is_sqlite:
                values.update(actor_type=actor.type, actor_id=actor.id, actor_name=actor.name)
                values["changes"] = audit.encode(changed)
                row = await connection.one(queries.INSERT_AUDITED, values)
                assert row is not None
                return row
            position = await connection.one(queries.NEXT_POSITION, {"account_id": account_id})
            assert position is not None
            row = await connection.one(queries.INSERT, {**values, "position": position[0]})
        except database.IntegrityError:
            # Another request took the username between our check and the insert.
            raise UsernameTaken(state["username"] or "") from None
        assert row is not None
        customer_id = to_customer.value(row, "idfulfilment_customer")
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
    sent = _cleaned(body)
    if body.password is not UNSET:
        sent["password"] = await hash_password(clean_password(body.password))
    account_id = principal.account_id
    key = {"account_id": account_id, "id": customer_id}
    zone = principal.timezone

    async def update(connection: Connection) -> Row:
        current = await connection.one(queries.GET_FOR_UPDATE, key)
        if current is None:
            raise CustomerNotFound(customer_id)
        state = _read_state(current)
        was_allowed = state["can_login"]
        before = _audited(state)
        state.update(sent)
        _check_login(state)
        await _check_references(connection, account_id, sent)
        username = sent.get("username")
        if username is not None:
            await _check_username_free(connection, account_id, username, customer_id)
        credentials_changed = "password" in sent or (was_allowed and not state["can_login"])
        if credentials_changed:
            # Portal sessions carry this number; a new one ends them.
            state["credentials_version"] += 1
            # And the customer's pending links (a reset, an invitation, a new address) are
            # void: an invitation never turns a login switched off back on.
            await void_links(connection, CUSTOMER, account_id, customer_id)
        try:
            row = await connection.one(queries.UPDATE, {**_stored(state), **key})
        except database.IntegrityError:
            raise UsernameTaken(state["username"] or "") from None
        changed = audit.changes(before, _audited(state))
        if changed:
            assert row is not None
            await outbox.customer_changed(connection, account_id, to_customer(row, zone))
            await audit.record(
                connection,
                account_id,
                customer_id,
                "update",
                audit.Actor.api_key(principal),
                changed,
            )
        assert row is not None
        return row

    return to_customer(await database.write(update), principal.timezone)
