"""Typed rows: a statement paired with the named tuple its rows become, checked by name
when the statement is declared, so that a column added, dropped or moved without its row
type fails at import rather than reading the wrong value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, NamedTuple, TypeVar

from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.selectable import ReturnsRows

R = TypeVar("R", bound=NamedTuple)
# A Query of any row type is a Query of NamedTuple (the row type only comes out of it).
R_co = TypeVar("R_co", bound=NamedTuple, covariant=True)


class Query(Generic[R_co]):
    """A statement whose rows are decoded once into `row`, a NamedTuple whose fields are
    the statement's columns (or RETURNING columns), by name and in order.

    `Connection.one` and `Connection.all` hand back instances of `row`; only this module
    and the connections know that a driver row is a plain tuple."""

    __slots__ = ("decode", "row", "statement")

    def __init__(self, statement: ReturnsRows, row: type[R_co]) -> None:
        columns = tuple(statement.exported_columns.keys())
        if columns != row._fields:
            raise TypeError(f"{row.__name__} has fields {row._fields}, the statement {columns}")
        self.statement: ClauseElement = statement
        self.row = row
        # tuple.__new__ under the class: no per-field work, so decoding costs one call a row.
        self.decode = row._make

    def one(self, raw: Sequence[object] | None) -> R_co | None:
        return None if raw is None else self.decode(raw)

    def all(self, raws: Sequence[Sequence[object]]) -> list[R_co]:
        return list(map(self.decode, raws))
