"""Units of work and the connections they run on: statements compiled once per dialect,
run on the driver; the rows of a `Query` handed back as its named row type."""

from __future__ import annotations

import contextlib
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol, TypeAlias, TypeVar

from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from .rows import Query, R

if TYPE_CHECKING:
    import psycopg
    from psycopg.rows import TupleRow

    # The drivers a unit of work runs on: sqlite3, psycopg's blocking connection (the
    # command line), or psycopg's async one (requests on PostgreSQL).
    BlockingDriver: TypeAlias = sqlite3.Connection | psycopg.Connection[TupleRow]
    AsyncDriver: TypeAlias = psycopg.AsyncConnection[TupleRow]

T = TypeVar("T")
Params = Mapping[str, object]
# What a driver takes for a statement's parameters: a tuple for the positional ones.
Parameters = Sequence[object] | Params
# A unit of work: a coroutine function run on one connection (see Database).
Work = Callable[["Connection"], Coroutine[object, None, T]]

# PostgreSQL's NOTIFY, and a counter for the processes that cannot LISTEN (see KeyChanges):
# one statement, in the transaction of the change it signals.
NOTIFY_SQL = (
    "WITH bumped AS (INSERT INTO change_counters (channel, version) VALUES (%s, 1)"
    " ON CONFLICT (channel) DO UPDATE SET version = change_counters.version + 1"
    " RETURNING channel) SELECT pg_notify(channel, '') FROM bumped"
)


class Owner(Protocol):
    """What a connection needs of the database it belongs to."""

    is_sqlite: bool
    # How a transaction starts, and the statement time limit set inside it (PostgreSQL).
    begin_sql: str
    timeout_sql: str

    def compiled(self, statement: ClauseElement) -> Statement: ...

    def signal(self, channel: str) -> None:
        """Tell the other processes that something on `channel` changed (SQLite)."""


def run_to_completion(unit: Coroutine[object, None, T]) -> T:
    """Drive a unit of work on a blocking connection, whose coroutines never suspend."""
    try:
        unit.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    unit.close()
    raise RuntimeError("a unit of work on a blocking connection waited for something else")


class Statement:
    """A Core statement compiled for one dialect: SQL text plus how to order its parameters."""

    __slots__ = ("fixed", "names", "sql")

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.sql = compiled.string
        # Positional drivers (sqlite3) take a tuple in this order; named ones take the mapping.
        self.names = tuple(compiled.positiontup) if compiled.positiontup is not None else None
        # Values the statement carries itself, such as the 1 in `count + 1`.
        self.fixed = {
            name: bind.value
            for bind, name in compiled.bind_names.items()
            if bind.value is not None and not bind.required
        }

    def parameters(self, values: Params) -> Parameters:
        if self.fixed:
            values = {**self.fixed, **values}
        if self.names is None:
            return values
        return tuple([values[name] for name in self.names])


class Connection(ABC):
    """A driver connection lent to one unit of work; its methods are coroutines."""

    __slots__ = ("_database",)

    def __init__(self, database: Owner) -> None:
        self._database = database

    @property
    def is_sqlite(self) -> bool:
        return self._database.is_sqlite

    @abstractmethod
    async def one(self, query: Query[R], values: Params) -> R | None:
        """The first row as the query's row type, or None."""
        raise NotImplementedError

    @abstractmethod
    async def all(self, query: Query[R], values: Params) -> list[R]:
        """Every row, as the query's row type."""
        raise NotImplementedError

    @abstractmethod
    async def execute(self, statement: ClauseElement, values: Params) -> int:
        """Run a statement; the number of rows it changed."""
        raise NotImplementedError

    @abstractmethod
    async def execute_many(self, statement: ClauseElement, rows: Sequence[Params]) -> None:
        """Run `statement` once for each of `rows`, with the driver's executemany (which
        on PostgreSQL sends them all before reading any answer)."""
        raise NotImplementedError

    async def execute_at_commit(self, statement: ClauseElement, values: Params) -> None:
        """Run a statement whose answer is not needed, as late as the transaction allows:
        on PostgreSQL with the COMMIT, in the same round trip, so that the locks the
        transaction holds are held one round trip less. At once elsewhere."""
        await self.execute(statement, values)

    @abstractmethod
    async def notify(self, channel: str) -> None:
        """Tell every process using the database that something on `channel` changed, once
        the transaction commits: PostgreSQL's NOTIFY, or a ChangeMarker beside a SQLite file."""
        raise NotImplementedError


class BlockingConnection(Connection):
    """A blocking driver connection (sqlite3, or psycopg's for the command line), whose
    coroutines never suspend."""

    __slots__ = ("_signals", "raw")

    def __init__(self, raw: BlockingDriver, database: Owner) -> None:
        super().__init__(database)
        self.raw = raw
        # Channels to signal when the open transaction commits (SQLite).
        self._signals: list[str] | None = None

    async def one(self, query: Query[R], values: Params) -> R | None:
        compiled = self._database.compiled(query.statement)
        return query.one(self.raw.execute(compiled.sql, compiled.parameters(values)).fetchone())

    async def all(self, query: Query[R], values: Params) -> list[R]:
        compiled = self._database.compiled(query.statement)
        return query.all(self.raw.execute(compiled.sql, compiled.parameters(values)).fetchall())

    async def execute(self, statement: ClauseElement, values: Params) -> int:
        compiled = self._database.compiled(statement)
        return self.raw.execute(compiled.sql, compiled.parameters(values)).rowcount

    async def execute_many(self, statement: ClauseElement, rows: Sequence[Params]) -> None:
        compiled = self._database.compiled(statement)
        values = [compiled.parameters(row) for row in rows]
        if isinstance(self.raw, sqlite3.Connection):
            self.raw.executemany(compiled.sql, values)
            return
        with self.raw.cursor() as cursor:
            cursor.executemany(compiled.sql, values)

    async def notify(self, channel: str) -> None:
        if not self._database.is_sqlite:
            self.raw.execute(NOTIFY_SQL, (channel,))
        elif self._signals is not None:
            self._signals.append(channel)
        else:
            self._database.signal(channel)

    @contextmanager
    def transaction(self) -> Iterator[BlockingConnection]:
        """Commit on success, roll back on any exception. SQLite takes the write lock up front
        (`BEGIN IMMEDIATE`), so concurrent writers queue instead of failing mid-way."""
        self.raw.execute(self._database.begin_sql)
        if not self._database.is_sqlite:
            self.raw.execute(self._database.timeout_sql)
        self._signals = []
        try:
            try:
                yield self
            except BaseException:
                self.raw.execute("ROLLBACK")
                raise
            self.raw.execute("COMMIT")
            for channel in self._signals:
                self._database.signal(channel)
        finally:
            self._signals = None


class SQLiteConnection(BlockingConnection):
    """A sqlite3 connection: the one of a thread (see SQLiteConnections)."""

    __slots__ = ()
    raw: sqlite3.Connection

    def __init__(self, raw: sqlite3.Connection, database: Owner) -> None:
        super().__init__(raw, database)


class AsyncConnection(Connection):
    """A connection of psycopg's async pool: the event loop serves other requests while
    the server works.

    Nothing is set on the connection's session: behind a pooler in transaction mode
    (PgBouncer) the next transaction may run on another server connection. The statement
    time limit is set for each transaction instead (`set_config(..., true)`), sent with
    the transaction's first statement (and BEGIN, for a write) in one round trip."""

    __slots__ = ("_at_commit", "_began", "_prefix", "answered", "raw")

    def __init__(self, raw: AsyncDriver, database: Owner) -> None:
        super().__init__(database)
        self.raw = raw
        # Statements the server has answered: a unit whose first statement found the
        # connection dropped has done nothing and may run again on another.
        self.answered = 0
        # Sent ahead of the next statement, in the same round trip: the time limit, on its
        # own before every statement outside a transaction (each is a transaction of its
        # own), and with BEGIN before a write's first.
        self._prefix: tuple[str, ...] = (database.timeout_sql,)
        self._began = False
        # A statement sent with the COMMIT (see execute_at_commit).
        self._at_commit: tuple[str, Parameters] | None = None

    def begin(self) -> None:
        """Open a transaction with the unit's first statement."""
        self._prefix = ("BEGIN", self._database.timeout_sql)

    async def end(self, commit: bool) -> None:
        """Commit or roll back the transaction `begin` opened, if a statement opened it:
        psycopg's own commands, a simple query with no cursor (a fifth less CPU than a
        COMMIT through `execute`), or with the statement left for the commit before it."""
        if not self._began:
            return
        self._began = False
        at_commit, self._at_commit = self._at_commit, None
        if not commit:
            await self.raw.rollback()
            return
        if at_commit is None:
            await self.raw.commit()
            return
        from psycopg import AsyncClientCursor

        sql, parameters = at_commit
        try:
            # One query of the simple protocol: a failing statement skips the COMMIT.
            await AsyncClientCursor(self.raw).execute(sql + "; COMMIT", parameters)
        except BaseException:
            with contextlib.suppress(Exception):
                await self.raw.rollback()
            raise

    async def execute_at_commit(self, statement: ClauseElement, values: Params) -> None:
        if not self._began:
            await self.execute(statement, values)
            return
        if self._at_commit is not None:
            await self._execute(*self._at_commit)
        compiled = self._database.compiled(statement)
        self._at_commit = (compiled.sql, compiled.parameters(values))

    async def _execute(self, sql: str, parameters: Parameters) -> psycopg.AsyncCursor[TupleRow]:
        raw = self.raw
        prefix = self._prefix
        if not prefix:
            cursor = await raw.execute(sql, parameters)
        else:
            from psycopg import AsyncClientCursor

            if prefix[0] == "BEGIN":
                self._prefix, self._began = (), True
            # One round trip: the commands and the statement in one query of the simple
            # protocol, the values bound on this side (the extended protocol takes a
            # statement a message: psycopg's pipeline, which sends several, costs more CPU
            # here than the statement). The statement's rows are the last result.
            cursor = AsyncClientCursor(raw)
            await cursor.execute("; ".join((*prefix, sql)), parameters)
            for _ in prefix:
                cursor.nextset()
        self.answered += 1
        return cursor

    async def one(self, query: Query[R], values: Params) -> R | None:
        cursor = await self._run(query.statement, values)
        return query.one(await cursor.fetchone())

    async def all(self, query: Query[R], values: Params) -> list[R]:
        cursor = await self._run(query.statement, values)
        return query.all(await cursor.fetchall())

    async def _run(self, statement: ClauseElement, values: Params) -> psycopg.AsyncCursor[TupleRow]:
        compiled = self._database.compiled(statement)
        return await self._execute(compiled.sql, compiled.parameters(values))

    async def execute(self, statement: ClauseElement, values: Params) -> int:
        compiled = self._database.compiled(statement)
        cursor = await self._execute(compiled.sql, compiled.parameters(values))
        return cursor.rowcount

    async def execute_many(self, statement: ClauseElement, rows: Sequence[Params]) -> None:
        prefix = self._prefix
        if prefix and prefix[0] == "BEGIN":
            # The unit's transaction begins here: executemany alone would run in autocommit,
            # each batch a transaction of its own, outside the unit's.
            self._prefix, self._began = (), True
            await self.raw.execute("; ".join(prefix))
        compiled = self._database.compiled(statement)
        values = [compiled.parameters(row) for row in rows]
        async with self.raw.cursor() as cursor:
            await cursor.executemany(compiled.sql, values)

    async def notify(self, channel: str) -> None:
        await self._execute(NOTIFY_SQL, (channel,))
