"""Typed rows: a Query's row type must be its statement's columns, and its rows come back
as that type on every kind of connection."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import NamedTuple

import pytest
import sqlalchemy as sa

from fulfilment.db import Database, Query
from fulfilment.tables import accounts

_p = sa.bindparam


class Created(NamedTuple):
    id: int


class Found(NamedTuple):
    id: int
    subdomain: str
    timezone: str


INSERT = Query(
    sa.insert(accounts)
    .values(subdomain=_p("subdomain"), name="x", timezone="UTC", created_at=_p("now"))
    .returning(accounts.c.id),
    Created,
)
FIND = Query(
    sa.select(accounts.c.id, accounts.c.subdomain, accounts.c.timezone).where(
        accounts.c.subdomain.like(_p("pattern"))
    ),
    Found,
)


def test_a_row_type_whose_fields_are_not_the_columns_is_refused() -> None:
    statement = sa.select(accounts.c.subdomain, accounts.c.id)

    class Swapped(NamedTuple):
        id: int
        subdomain: str

    class Short(NamedTuple):
        subdomain: str

    with pytest.raises(TypeError, match=r"\('id', 'subdomain'\).*\('subdomain', 'id'\)"):
        Query(statement, Swapped)
    with pytest.raises(TypeError, match="Short"):
        Query(statement, Short)
    assert Query(statement.with_only_columns(accounts.c.id, accounts.c.subdomain), Swapped)


def test_rows_come_back_by_name(database: Database) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    # A blocking connection (the command line's way).
    first = database.write_sync(lambda c: c.one(INSERT, {"subdomain": "rows-a", "now": now}))
    assert isinstance(first, Created)

    async def scenario() -> tuple[Found | None, list[Found], Found | None]:
        await database.start()  # PostgreSQL: the async pool's connections
        await database.write(lambda c: c.one(INSERT, {"subdomain": "rows-b", "now": now}))
        one = await database.read(lambda c: c.one(FIND, {"pattern": "rows-a"}))
        every = await database.read(lambda c: c.all(FIND, {"pattern": "rows-%"}))
        none = await database.read(lambda c: c.one(FIND, {"pattern": "nobody"}))
        await database.aclose()
        return one, every, none

    one, every, none = asyncio.run(scenario())
    assert one == Found(first.id, "rows-a", "UTC")
    assert isinstance(one, Found)
    assert one.subdomain == "rows-a"
    assert sorted(row.subdomain for row in every) == ["rows-a", "rows-b"]
    assert all(isinstance(row, Found) for row in every)
    assert none is None
