"""A customer's rows, read by field name: the answers built from a statement's columns, and
the writable state a change starts from and stores back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

import msgspec

from ..clock import utcnow
from ..db import Query
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


class Reader(Generic[Answer]):
    """The rows of `query`, which selects `fields`' columns, as `struct`. Which value goes
    to which field, and which need converting, is worked out by name once, here: the query's
    row type and the struct's fields are the fields' (checked), so each row is passed on as
    it is, with a few values converted."""

    def __init__(
        self, struct: type[Answer], fields: tuple[Field, ...], query: Query[NamedTuple]
    ) -> None:
        names = tuple(field.name for field in fields)
        if struct.__struct_fields__ != names:
            raise TypeError(f"{struct.__name__} has fields {struct.__struct_fields__}, not {names}")
        stored = tuple(field.stored_as for field in fields)
        if query.row._fields != stored:
            raise TypeError(f"{query.row.__name__} has fields {query.row._fields}, not {stored}")
        self.struct: type[Answer] = struct
        self.converted = tuple(
            (position, _FROM_COLUMN[field.kind])
            for position, field in enumerate(fields)
            if field.kind in _FROM_COLUMN
        )
        self.datetimes = tuple(
            position for position, field in enumerate(fields) if field.kind == "datetime"
        )

    def __call__(self, row: Sequence[Any], timezone: ZoneInfo) -> Answer:
        values = list(row)
        for position, convert in self.converted:
            values[position] = convert(values[position])
        for position in self.datetimes:
            values[position] = format_datetime(values[position], timezone)
        answer: Answer = self.struct(*values)
        return answer


# queries.CustomerRow (GET_ONE, INSERT, INSERT_AUDITED, UPDATE) and queries.CustomerListRow
# (PAGE, SEARCH_PAGE, SEARCH_INDEXED): each Query checks its statement against its row.
to_customer = Reader(Customer, OUTPUT_FIELDS, queries.GET_ONE)
to_list_item = Reader(CustomerListItem, LIST_FIELDS, queries.PAGE)


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


def read_state(row: queries.CustomerStateRow) -> State:
    """A row of queries.GET_FOR_UPDATE, by field name (its columns are the fields', in
    order: see the row type)."""
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
