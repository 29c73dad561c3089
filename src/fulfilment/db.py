"""Database access: the engine for migrations and admin work, and a lean driver-level path
for requests, where statements are compiled once per dialect and run on the DBAPI."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from .errors import ServiceUnavailable
from .settings import Settings
from .threads import Workers

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
    """A pooled driver connection in autocommit mode; `transaction()` opens an explicit one."""

    __slots__ = ("_database", "_signals", "born", "raw")

    def __init__(self, raw: Any, database: Database, born: int) -> None:
        self.raw = raw
        self._database = database
        # The pool generation it was opened in (see Database._generation).
        self.born = born
        # Channels to signal when the open transaction commits (SQLite).
        self._signals: list[str] | None = None

    def _statement(self, statement: ClauseElement) -> Statement:
        compiled = self._database.statements.get(statement)
        if compiled is None:
            compiled = self._database.statements[statement] = Statement(
                statement, self._database.dialect
            )
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
        """Tell every process using the database that something on `channel` changed, once
        the transaction commits: PostgreSQL's NOTIFY, or a ChangeMarker beside a SQLite file."""
        if not self._database.is_sqlite:
            self.raw.execute("SELECT pg_notify(%s, '')", (channel,))
        elif self._signals is not None:
            self._signals.append(channel)
        else:
            self._database.marker(channel).touch()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Commit on success, roll back on any exception. SQLite takes the write lock up front
        (`BEGIN IMMEDIATE`), so concurrent writers queue instead of failing mid-way."""
        self.raw.execute(self._database.begin_sql)
        self._signals = []
        try:
            try:
                yield self
            except BaseException:
                self.raw.execute("ROLLBACK")
                raise
            self.raw.execute("COMMIT")
            for channel in self._signals:
                self._database.marker(channel).touch()
        finally:
            self._signals = None


class ChangeMarker:
    """A small file beside a SQLite database that every committed change on one channel
    overwrites with fresh random bytes, so that the processes sharing the file learn of the
    change with one read (`version()`), without asking the database."""

    SIZE = 16

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def version(self) -> bytes | None:
        """The marker's current bytes; None when the file cannot be read."""
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            return os.pread(self._fd, self.SIZE, 0)
        except OSError:
            return None

    def touch(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, os.urandom(self.SIZE), 0)
        finally:
            os.close(fd)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Database:
    """One per process: the SQLAlchemy engine plus a small pool of driver connections."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = database_url(settings)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.path: Path | None = None
        if self.is_sqlite and self.url.database not in (None, "", ":memory:"):
            self.path = Path(self.url.database)
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(self.url, pool_size=settings.pool_size, pool_pre_ping=True)
        self.dialect = self.engine.dialect
        self.begin_sql = "BEGIN IMMEDIATE" if self.is_sqlite else "BEGIN"
        self.statements: dict[ClauseElement, Statement] = {}
        self.IntegrityError: type[Exception] = self.dialect.loaded_dbapi.IntegrityError
        self.DatabaseError: type[Exception] = self.dialect.loaded_dbapi.Error
        self._markers: dict[str, ChangeMarker] = {}
        # Idle connections, most recently used last. Taking and giving back is a list pop and
        # append; the lock and condition are only for opening connections and for waiting.
        self._idle: list[Connection] = []
        self._opened = 0
        self._waiting = 0
        self._lock = threading.Lock()
        self._returned = threading.Condition(self._lock)
        # Bumped whenever a connection turns out to be dropped by the server; connections
        # born before that are closed rather than used, since whatever dropped one (a
        # restart, killed backends) has most likely dropped them too, and each would fail a
        # request of its own, however long after.
        self._generation = 0
        # Writes run on threads of their own (a commit waits for the disk); one connection
        # always stays free for the reads the event loop does itself. SQLite takes one writer
        # at a time: more threads would only meet in its busy handler, which sleeps
        # milliseconds between tries.
        self._writers = Workers(1 if self.is_sqlite else max(1, settings.pool_size - 1), "db-write")
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
        return raw

    def marker(self, channel: str) -> ChangeMarker:
        """The change marker of `channel` (SQLite files only)."""
        marker = self._markers.get(channel)
        if marker is None:
            assert self.path is not None, "an in-memory database has no change markers"
            marker = self._markers[channel] = ChangeMarker(Path(f"{self.path}-{channel}"))
        return marker

    def _acquire(self) -> Connection:
        while True:
            try:
                connection = self._idle.pop()
            except IndexError:
                connection = self._wait_or_open()
            if connection.born == self._generation:
                return connection
            self._discard(connection)

    def _wait_or_open(self) -> Connection:
        deadline = time.monotonic() + self.settings.pool_timeout_seconds
        with self._lock:
            # Counted before looking, so that a connection given back meanwhile is either
            # seen here or wakes this thread (see _release).
            self._waiting += 1
            try:
                while True:
                    try:
                        return self._idle.pop()
                    except IndexError:
                        pass
                    if self._opened < self.settings.pool_size:
                        self._opened += 1
                        try:
                            return Connection(self.open_connection(), self, self._generation)
                        except BaseException:
                            self._opened -= 1
                            raise
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise ServiceUnavailable(
                            "Every database connection is busy; try again shortly."
                        )
                    self._returned.wait(left)
            finally:
                self._waiting -= 1

    def _release(self, connection: Connection) -> None:
        raw = connection.raw
        # A connection the server dropped (restart, killed backend) is not handed on.
        if getattr(raw, "broken", False) or getattr(raw, "closed", False) is True:
            with self._lock:
                self._generation += 1
            self._discard(connection)
        elif connection.born != self._generation:
            self._discard(connection)
        else:
            self._idle.append(connection)
            if self._waiting:
                with self._lock:
                    self._returned.notify()

    def _discard(self, connection: Connection) -> None:
        with self._lock:
            self._opened -= 1
            self._returned.notify()  # a waiter may open a new one in its place
        # A broken connection may fail to close; it is gone either way.
        with contextlib.suppress(Exception):
            connection.raw.close()

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """Borrow a driver connection for the length of the block."""
        connection = self._acquire()
        try:
            yield connection
        finally:
            self._release(connection)

    def read(self, work: Callable[[Connection], T]) -> T:
        """Run `work` on the calling thread: for short indexed reads."""
        connection = self._acquire()
        try:
            return work(connection)
        finally:
            self._release(connection)

    async def write(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one transaction on a writer thread (see Workers.run)."""
        return await self._writers.run(self.write_sync, work)

    def write_sync(self, work: Callable[[Connection], T]) -> T:
        with self.connect() as connection, connection.transaction():
            return work(connection)

    def close(self) -> None:
        self._writers.shutdown()
        while self._idle:
            self._discard(self._idle.pop())
        for marker in self._markers.values():
            marker.close()
        self.engine.dispose()
