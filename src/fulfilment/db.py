"""Database access: the engine for migrations and admin work, and a lean driver-level path
for requests, where statements are compiled once per dialect and run on the DBAPI."""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import anyio
import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from .errors import ServiceUnavailable
from .settings import Settings

T = TypeVar("T")
Row = tuple[Any, ...]
Params = Mapping[str, Any]


def utcnow() -> datetime:
    """Now, as the naive UTC datetime every timestamp column holds."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def as_datetime(value: datetime | str | None) -> datetime | None:
    """A timestamp column's value: SQLite hands back text, PostgreSQL a datetime."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


# SQLite stores timestamps as ISO text, the same text SQLAlchemy's DateTime type writes.
sqlite3.register_adapter(datetime, lambda value: value.isoformat(" "))


def database_url(settings: Settings) -> sa.URL:
    url = sa.make_url(settings.database_url)
    if url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ValueError(
            f"unsupported database {url.get_backend_name()!r}: use sqlite or postgresql"
        )
    return url


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

    def parameters(self, values: Params) -> Sequence[Any] | Params:
        if self.fixed:
            values = {**self.fixed, **values}
        if self.names is None:
            return values
        return tuple([values[name] for name in self.names])


class Connection:
    """A driver connection in autocommit mode; `transaction()` opens an explicit one."""

    __slots__ = ("_begin", "_cache", "_dialect", "raw")

    def __init__(self, raw: Any, database: Database) -> None:
        self.raw = raw
        self._cache = database.statements
        self._dialect = database.dialect
        self._begin = database.begin_sql

    def _statement(self, statement: ClauseElement) -> Statement:
        compiled = self._cache.get(statement)
        if compiled is None:
            compiled = self._cache[statement] = Statement(statement, self._dialect)
        return compiled

    def one(self, statement: ClauseElement, values: Params) -> Row | None:
        compiled = self._statement(statement)
        row: Row | None = self.raw.execute(compiled.sql, compiled.parameters(values)).fetchone()
        return row

    def all(self, statement: ClauseElement, values: Params) -> list[Row]:
        compiled = self._statement(statement)
        rows: list[Row] = self.raw.execute(compiled.sql, compiled.parameters(values)).fetchall()
        return rows

    def execute(self, statement: ClauseElement, values: Params) -> int:
        compiled = self._statement(statement)
        rowcount: int = self.raw.execute(compiled.sql, compiled.parameters(values)).rowcount
        return rowcount

    def notify(self, channel: str) -> None:
        """Wake PostgreSQL's listeners on `channel` when the transaction commits. SQLite has
        none: every process reads the same local file."""
        if self._dialect.name == "postgresql":
            self.raw.execute("SELECT pg_notify(%s, '')", (channel,))

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Commit on success, roll back on any exception. SQLite takes the write lock up front
        (`BEGIN IMMEDIATE`), so concurrent writers queue instead of failing mid-way."""
        self.raw.execute(self._begin)
        try:
            yield self
        except BaseException:
            self.raw.execute("ROLLBACK")
            raise
        self.raw.execute("COMMIT")


class Database:
    """One per process: the SQLAlchemy engine plus a small pool of driver connections."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = database_url(settings)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite and self.url.database not in (None, "", ":memory:"):
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(self.url, pool_size=settings.pool_size, pool_pre_ping=True)
        self.dialect = self.engine.dialect
        self.begin_sql = "BEGIN IMMEDIATE" if self.is_sqlite else "BEGIN"
        self.statements: dict[ClauseElement, Statement] = {}
        self.IntegrityError: type[Exception] = self.dialect.loaded_dbapi.IntegrityError
        self.DatabaseError: type[Exception] = self.dialect.loaded_dbapi.Error
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue()
        self._opened = 0
        self._lock = threading.Lock()
        # Bumped whenever a connection turns out to be dropped by the server; connections
        # opened before that (id(raw) -> generation) are closed rather than used, since
        # whatever dropped one (a restart, killed backends) has most likely dropped them
        # too, and each would fail a request of its own, however long after.
        self._generation = 0
        self._born: dict[int, int] = {}
        # Writes run on worker threads (a commit waits for the disk); one connection always
        # stays free for the reads the event loop does itself. SQLite takes one writer at a
        # time: more threads would only meet in its busy handler, which sleeps milliseconds
        # between tries.
        writers = 1 if self.is_sqlite else max(1, settings.pool_size - 1)
        self._write_limiter = anyio.CapacityLimiter(writers)
        if self.is_sqlite:
            sa.event.listen(self.engine, "connect", self._configure_sqlite_for_engine)
            sa.event.listen(self.engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))

    # -- connections -----------------------------------------------------------------------

    def _configure_sqlite(self, raw: sqlite3.Connection) -> None:
        raw.isolation_level = None
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute(f"PRAGMA synchronous={self.settings.sqlite_synchronous.upper()}")
        raw.execute(f"PRAGMA busy_timeout={int(self.settings.sqlite_busy_timeout_ms)}")

    def _configure_sqlite_for_engine(self, raw: sqlite3.Connection, _record: object) -> None:
        # SQLAlchemy issues BEGIN itself (see the "begin" listener); the driver must not.
        self._configure_sqlite(raw)

    def open_connection(self) -> Any:
        """A driver connection of its own, in autocommit mode, outside the pool."""
        cargs, cparams = self.dialect.create_connect_args(self.url)
        cparams.pop("context", None)
        raw = self.dialect.loaded_dbapi.connect(*cargs, **cparams)
        if self.is_sqlite:
            self._configure_sqlite(raw)
            raw.execute("PRAGMA foreign_keys=ON")
        else:
            raw.autocommit = True
        self._born[id(raw)] = self._generation
        return raw

    def _acquire(self) -> Any:
        while True:
            raw = self._take()
            if self._born.get(id(raw)) == self._generation:
                return raw
            self._discard(raw)

    def _take(self) -> Any:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._opened < self.settings.pool_size:
                self._opened += 1
                try:
                    return self.open_connection()
                except BaseException:
                    self._opened -= 1
                    raise
        try:
            return self._idle.get(timeout=self.settings.pool_timeout_seconds)
        except queue.Empty:
            raise ServiceUnavailable(
                "Every database connection is busy; try again shortly."
            ) from None

    def _discard(self, raw: Any) -> None:
        with self._lock:
            self._opened -= 1
            self._born.pop(id(raw), None)
        # A broken connection may fail to close; it is gone either way.
        with contextlib.suppress(Exception):
            raw.close()

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """Borrow a driver connection for the length of the block."""
        raw = self._acquire()
        try:
            yield Connection(raw, self)
        finally:
            # A connection the server dropped (restart, killed backend) is not handed on.
            if getattr(raw, "broken", False) or getattr(raw, "closed", False) is True:
                with self._lock:
                    self._generation += 1
                self._discard(raw)
            elif self._born.get(id(raw)) != self._generation:
                self._discard(raw)
            else:
                self._idle.put(raw)

    def read(self, work: Callable[[Connection], T]) -> T:
        """Run `work` on the calling thread: for short indexed reads."""
        with self.connect() as connection:
            return work(connection)

    async def write(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one transaction on a worker thread."""
        return await anyio.to_thread.run_sync(self.write_sync, work, limiter=self._write_limiter)

    def write_sync(self, work: Callable[[Connection], T]) -> T:
        with self.connect() as connection, connection.transaction():
            return work(connection)

    def close(self) -> None:
        while True:
            try:
                raw = self._idle.get_nowait()
            except queue.Empty:
                break
            self._discard(raw)
        self.engine.dispose()
