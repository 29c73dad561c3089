"""A customer's rows, read by field name: the answers built from a statement's columns, and
the writable state a change starts from and stores back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy.sql.selectable import ReturnsRows

from ..clock import utcnow
from ..fields import (
    CUSTOMER_FIELDS,
    LIST_FIELDS,
    OUTPUT_FIELDS,
    WRITABLE_FIELDS,
    Field,
    username_key,
)
from ..wire import format_datetime
from . import queries
from .schemas import Customer, CustomerListItem

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


def _check_columns(statement: ReturnsRows, fields: tuple[Field, ...]) -> None:
    columns = tuple(statement.exported_columns.keys())
    stored = tuple(field.stored_as for field in fields)
    if columns != stored:
        raise TypeError(f"the statement's columns {columns} are not the fields' {stored}")


class Reader(Generic[Answer]):
    """The rows of `statement`, which selects `fields`' columns, as `struct`. Which value
    goes to which field, and which need converting, is worked out by name once, here: the
    statement's columns and the struct's fields are the fields' (checked), so each row is
    passed on as it is, with a few values converted."""

    def __init__(
        self, struct: type[Answer], fields: tuple[Field, ...], statement: ReturnsRows
    ) -> None:
        names = tuple(field.name for field in fields)
        if struct.__struct_fields__ != names:
            raise TypeError(f"{struct.__name__} has fields {struct.__struct_fields__}, not {names}")
        _check_columns(statement, fields)
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

    def __call__(self, row: Sequence[Any], timezone: ZoneInfo) -> Answer:
        values = list(row)
        for position, convert in self.converted:
            values[position] = convert(values[position])
        for position in self.datetimes:
            values[position] = format_datetime(values[position], timezone)
        answer: Answer = self.struct(*values)
        return answer

    def value(self, row: Sequence[Any], name: str) -> Any:
        """One field of a row, as stored."""
        return row[self.positions[name]]


# Rows of queries.OBJECT_COLUMNS (GET_ONE, INSERT, INSERT_AUDITED, UPDATE) and of
# queries.LIST_COLUMNS (PAGE, SEARCH_PAGE, SEARCH_INDEXED).
to_customer = Reader(Customer, OUTPUT_FIELDS, queries.GET_ONE)
to_list_item = Reader(CustomerListItem, LIST_FIELDS, queries.PAGE)
for _statement in (queries.INSERT, queries.INSERT_AUDITED, queries.UPDATE):
    _check_columns(_statement, OUTPUT_FIELDS)
for _statement in (queries.SEARCH_PAGE, queries.SEARCH_INDEXED):
    _check_columns(_statement, LIST_FIELDS)


# A customer's writable state, as stored: field name -> value (the password: its hash),
# and its credentials_version.
State = dict[str, Any]
_STATE = (*(field.name for field in WRITABLE_FIELDS), "credentials_version")
_STATE_COLUMNS = (*(field.stored_as for field in WRITABLE_FIELDS), "credentials_version")
if tuple(queries.GET_FOR_UPDATE.exported_columns.keys()) != _STATE_COLUMNS:
    raise TypeError(f"GET_FOR_UPDATE does not select {_STATE_COLUMNS}")
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


def read_state(row: Sequence[object]) -> State:
    """A row of queries.GET_FOR_UPDATE, by field name."""
    state = dict(zip(_STATE, row, strict=True))
    for name, convert in _STATE_CONVERTED:
        state[name] = convert(state[name])
    return state


def audited(state: State) -> dict[str, Any]:
    """What the audit trail compares, under each field's audit label; the hash stands in
    for the password and is never written out (see audit.changes)."""
    return {label: state[name] for label, name in _AUDITED}


def stored(state: State) -> dict[str, Any]:
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
