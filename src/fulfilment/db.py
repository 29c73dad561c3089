"""Database access: the engine for migrations, and the path requests take, where statements
are compiled once per dialect and run on the driver.

A unit of work is a coroutine function taking a `Connection`. On PostgreSQL it runs on a
connection of psycopg's async pool, so that waiting for the server never holds up the
event loop. On SQLite, a local file, the connection's coroutines complete without ever
suspending: short indexed reads run to completion on the event loop itself, where they
cost least, long reads on threads of their own, and writes on the one writer thread, which
commits those waiting together (group_commit.py). The command line runs the same units on
blocking connections (`write_sync`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import stat
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from .errors import ServiceUnavailable
from .group_commit import GroupCommitter
from .settings import Settings
from .threads import Workers

T = TypeVar("T")
Row = tuple[Any, ...]
Params = Mapping[str, Any]
# A unit of work: a coroutine function run on one connection (see Database).
Work = Callable[["Connection"], Coroutine[Any, Any, T]]
log = logging.getLogger("fulfilment")

# PostgreSQL's NOTIFY, and a counter for the processes that cannot LISTEN (see KeyChanges):
# one statement, in the transaction of the change it signals.
NOTIFY_SQL = (
    "WITH bumped AS (INSERT INTO change_counters (channel, version) VALUES (%s, 1)"
    " ON CONFLICT (channel) DO UPDATE SET version = change_counters.version + 1"
    " RETURNING channel) SELECT pg_notify(channel, '') FROM bumped"
)


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


def database_url(settings: Settings, url_text: str | None = None) -> sa.URL:
    """FULFILMENT_DATABASE_URL (or `url_text`) with the driver the service uses."""
    url = sa.make_url(url_text or settings.database_url)
    if url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ValueError(
            f"unsupported database {url.get_backend_name()!r}: use sqlite or postgresql"
        )
    return url


def run_to_completion(unit: Coroutine[Any, Any, T]) -> T:
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

    def parameters(self, values: Params) -> Sequence[Any] | Params:
        if self.fixed:
            values = {**self.fixed, **values}
        if self.names is None:
            return values
        return tuple([values[name] for name in self.names])


class Connection:
    """A driver connection lent to one unit of work. Its methods are coroutines; on this
    class (sqlite3, or a blocking psycopg connection) they never suspend."""

    __slots__ = ("_database", "_signals", "raw")

    def __init__(self, raw: Any, database: Database) -> None:
        self.raw = raw
        self._database = database
        # Channels to signal when the open transaction commits (SQLite).
        self._signals: list[str] | None = None

    async def one(self, statement: ClauseElement, values: Params) -> Row | None:
        compiled = self._database.compiled(statement)
        row: Row | None = self.raw.execute(compiled.sql, compiled.parameters(values)).fetchone()
        return row

    async def all(self, statement: ClauseElement, values: Params) -> list[Row]:
        compiled = self._database.compiled(statement)
        rows: list[Row] = self.raw.execute(compiled.sql, compiled.parameters(values)).fetchall()
        return rows

    async def execute(self, statement: ClauseElement, values: Params) -> int:
        compiled = self._database.compiled(statement)
        rowcount: int = self.raw.execute(compiled.sql, compiled.parameters(values)).rowcount
        return rowcount

    async def notify(self, channel: str) -> None:
        """Tell every process using the database that something on `channel` changed, once
        the transaction commits: PostgreSQL's NOTIFY, or a ChangeMarker beside a SQLite file."""
        if not self._database.is_sqlite:
            self.raw.execute(NOTIFY_SQL, (channel,))
        elif self._signals is not None:
            self._signals.append(channel)
        else:
            self._database.marker(channel).touch()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
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
                self._database.marker(channel).touch()
        finally:
            self._signals = None


class AsyncConnection(Connection):
    """A connection of psycopg's async pool: the event loop serves other requests while
    the server works.

    Nothing is set on the connection's session: behind a pooler in transaction mode
    (PgBouncer) the next transaction may run on another server connection. The statement
    time limit is set for each transaction instead (`set_config(..., true)`), sent with
    the transaction's first statement (and BEGIN, for a write) in one round trip."""

    __slots__ = ("_began", "_prefix", "answered")

    def __init__(self, raw: Any, database: Database) -> None:
        super().__init__(raw, database)
        # Statements the server has answered: a unit whose first statement found the
        # connection dropped has done nothing and may run again on another.
        self.answered = 0
        # Sent ahead of the next statement, in the same round trip: the time limit, on its
        # own before every statement outside a transaction (each is a transaction of its
        # own), and with BEGIN before a write's first.
        self._prefix: tuple[str, ...] = (database.timeout_sql,)
        self._began = False

    def begin(self) -> None:
        """Open a transaction with the unit's first statement."""
        self._prefix = ("BEGIN", self._database.timeout_sql)

    async def end(self, command: str) -> None:
        """COMMIT or ROLLBACK the transaction `begin` opened, if a statement opened it."""
        if self._began:
            self._began = False
            await self.raw.execute(command)

    async def _execute(self, sql: str, parameters: Sequence[Any] | Params) -> Any:
        raw = self.raw
        prefix = self._prefix
        if prefix:
            if prefix[0] == "BEGIN":
                self._prefix, self._began = (), True
            # One round trip: the pipeline is synced when the block ends.
            async with raw.pipeline():
                for command in prefix:
                    await raw.execute(command)
                cursor = await raw.execute(sql, parameters)
        else:
            cursor = await raw.execute(sql, parameters)
        self.answered += 1
        return cursor

    async def one(self, statement: ClauseElement, values: Params) -> Row | None:
        compiled = self._database.compiled(statement)
        cursor = await self._execute(compiled.sql, compiled.parameters(values))
        row: Row | None = await cursor.fetchone()
        return row

    async def all(self, statement: ClauseElement, values: Params) -> list[Row]:
        compiled = self._database.compiled(statement)
        cursor = await self._execute(compiled.sql, compiled.parameters(values))
        rows: list[Row] = await cursor.fetchall()
        return rows

    async def execute(self, statement: ClauseElement, values: Params) -> int:
        compiled = self._database.compiled(statement)
        cursor = await self._execute(compiled.sql, compiled.parameters(values))
        rowcount: int = cursor.rowcount
        return rowcount

    async def notify(self, channel: str) -> None:
        await self._execute(NOTIFY_SQL, (channel,))


class ChangeMarker:
    """A small file beside a SQLite database that every committed change on one channel
    overwrites with fresh random bytes, so that the processes sharing the file learn of the
    change with one read (`version()`), without asking the database. A marker deleted or
    replaced by another file is noticed: the open file is checked against the path at most
    once a `RECHECK_SECONDS`, and reopened when they differ."""

    SIZE = 16
    RECHECK_SECONDS = 0.5

    def __init__(self, path: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self._fd: int | None = None
        self._identity: tuple[int, int] | None = None
        self._checked = 0.0
        self._clock = clock

    def version(self) -> bytes | None:
        """The marker's current bytes; None when the file cannot be read."""
        try:
            now = self._clock()
            if self._fd is not None and now - self._checked >= self.RECHECK_SECONDS:
                self._checked = now
                if self._replaced():
                    self.close()
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                opened = os.fstat(self._fd)
                self._identity = (opened.st_dev, opened.st_ino)
                self._checked = now
            # The identity of the open file is part of the version: a new file, even one
            # holding the same bytes, means changes may have been missed.
            return os.pread(self._fd, self.SIZE, 0) + repr(self._identity).encode()
        except OSError:
            self.close()
            return None

    def _replaced(self) -> bool:
        try:
            current = os.stat(self.path)
        except FileNotFoundError:
            return True
        return (
            not stat.S_ISREG(current.st_mode) or (current.st_dev, current.st_ino) != self._identity
        )

    def touch(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, os.urandom(self.SIZE), 0)
        finally:
            os.close(fd)

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
            self._identity = None


class Database:
    """One per process: the SQLAlchemy engine for migrations, and the connections units of
    work run on (psycopg's async pool, or a SQLite connection per thread)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = database_url(settings)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.path: Path | None = None
        if self.is_sqlite and self.url.database not in (None, "", ":memory:"):
            self.path = Path(self.url.database)
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # Migrations and the schema check: on the direct connection where there is one.
        self.direct_url = (
            database_url(settings, settings.database_direct_url)
            if settings.database_direct_url is not None and not self.is_sqlite
            else self.url
        )
        self.engine = sa.create_engine(
            self.direct_url,
            pool_size=1,
            pool_pre_ping=True,
            # Server-side prepared statements do not survive a pooler in transaction mode.
            connect_args={} if self.is_sqlite else {"prepare_threshold": None},
        )
        self.timeout_sql = (
            "SELECT set_config('statement_timeout', "
            f"'{int(settings.statement_timeout_seconds * 1000)}', true)"
        )
        self.dialect = self.engine.dialect
        self.begin_sql = "BEGIN IMMEDIATE" if self.is_sqlite else "BEGIN"
        self.statements: dict[ClauseElement, Statement] = {}
        self.IntegrityError: type[Exception] = self.dialect.loaded_dbapi.IntegrityError
        self.DatabaseError: type[Exception] = self.dialect.loaded_dbapi.Error
        self._markers: dict[str, ChangeMarker] = {}
        # Long reads (a search, a scan) of one account at a time: at most a quarter of the
        # connections (one of the default five), so that one tenant's heavy use leaves the
        # connections, and the database's cores, to everyone else's requests.
        self._heavy_per_account = max(1, settings.pool_size // 4)
        self._heavy: dict[int, asyncio.Semaphore] = {}
        if self.is_sqlite:
            # A connection per thread: the event loop's, the writer's, the readers', and
            # whichever thread the command line runs on.
            self._local = threading.local()
            self._sqlite_connections: list[sqlite3.Connection] = []
            self._sqlite_lock = threading.Lock()
            # SQLite takes one writer at a time: more threads would only meet in its busy
            # handler, which sleeps milliseconds between tries. The one commits the units
            # that wait for it together.
            self.writer = GroupCommitter(self._sqlite, lambda channel: self.marker(channel).touch())
            self._readers = Workers(max(1, settings.pool_size - 1), "db-read")
            sa.event.listen(self.engine, "connect", self._configure_sqlite_for_engine)
            sa.event.listen(self.engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        else:
            self._pool: Any = None
            self._pool_loop: asyncio.AbstractEventLoop | None = None
            # Connections of their own for units on a loop the pool does not serve.
            self._unpooled: weakref.WeakKeyDictionary[
                asyncio.AbstractEventLoop, asyncio.Semaphore
            ] = weakref.WeakKeyDictionary()
            self._pool_lock = threading.Lock()
            # Until then, each connection is checked before use: set when a dropped one
            # is met, since whatever dropped it (a restart, killed backends) has most likely
            # dropped the others too.
            self._suspect_until = 0.0
            self._checking: asyncio.Task[None] | None = None

    # -- compiled statements --------------------------------------------------------------

    def compiled(self, statement: ClauseElement) -> Statement:
        compiled = self.statements.get(statement)
        if compiled is None:
            compiled = self.statements[statement] = Statement(statement, self.dialect)
        return compiled

    # -- SQLite ---------------------------------------------------------------------------

    def _configure_sqlite(self, raw: sqlite3.Connection) -> None:
        raw.isolation_level = None
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute(f"PRAGMA synchronous={self.settings.sqlite_synchronous.upper()}")
        raw.execute(f"PRAGMA busy_timeout={int(self.settings.sqlite_busy_timeout_ms)}")

    def _configure_sqlite_for_engine(self, raw: sqlite3.Connection, _record: object) -> None:
        # SQLAlchemy issues BEGIN itself (see the "begin" listener); the driver must not.
        self._configure_sqlite(raw)

    def _sqlite(self) -> Connection:
        """This thread's SQLite connection."""
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            raw = self.open_connection()
            with self._sqlite_lock:
                self._sqlite_connections.append(raw)
            connection = self._local.connection = Connection(raw, self)
        return connection

    def marker(self, channel: str) -> ChangeMarker:
        """The change marker of `channel` (SQLite files only)."""
        marker = self._markers.get(channel)
        if marker is None:
            assert self.path is not None, "an in-memory database has no change markers"
            marker = self._markers[channel] = ChangeMarker(Path(f"{self.path}-{channel}"))
        return marker

    # -- PostgreSQL -----------------------------------------------------------------------

    def connect_args(self, direct: bool = False) -> dict[str, Any]:
        """psycopg's connection arguments: the URL's (the direct one's with `direct`), in
        autocommit mode, and no server-side prepared statements, which a pooler in
        transaction mode would hand to another client's session. Nothing else is set for
        the session (no startup `options`: PgBouncer refuses them); the statement time
        limit is set per transaction (see AsyncConnection)."""
        cargs, cparams = self.dialect.create_connect_args(self.direct_url if direct else self.url)
        assert not cargs
        cparams.pop("context", None)
        cparams["autocommit"] = True
        cparams["prepare_threshold"] = None
        return dict(cparams)

    async def start(self) -> None:
        """Open PostgreSQL's connection pool on the running event loop, the one that will
        serve requests (the application's lifespan calls this). Units of work on any other
        loop, or before this, get a connection of their own."""
        if self.is_sqlite or self._pool is not None:
            return
        from psycopg_pool import AsyncConnectionPool

        pool = AsyncConnectionPool(
            kwargs=self.connect_args(),
            min_size=self.settings.pool_size,
            max_size=self.settings.pool_size,
            timeout=self.settings.pool_timeout_seconds,
            check=self._check,
            reconnect_timeout=30,
            name="fulfilment",
            open=False,
        )
        await pool.open(wait=False)
        self._pool, self._pool_loop = pool, asyncio.get_running_loop()

    def _postgres_pool(self) -> Any:
        """The pool, when it serves this event loop."""
        if self._pool is not None and self._pool_loop is asyncio.get_running_loop():
            return self._pool
        return None

    @contextlib.asynccontextmanager
    async def _postgres_connection(self) -> AsyncIterator[Any]:
        pool = self._postgres_pool()
        if pool is not None:
            async with pool.connection() as raw:
                yield raw
            return
        import psycopg

        # As many at once as the pool would hold, waited for as long as the pool is.
        loop = asyncio.get_running_loop()
        limit = self._unpooled.get(loop)
        if limit is None:
            limit = self._unpooled[loop] = asyncio.Semaphore(self.settings.pool_size)
        try:
            async with asyncio.timeout(self.settings.pool_timeout_seconds):
                await limit.acquire()
        except TimeoutError:
            raise ServiceUnavailable(
                "Every database connection is busy; try again shortly."
            ) from None
        try:
            raw = await psycopg.AsyncConnection.connect(**self.connect_args())
            try:
                yield raw
            finally:
                await raw.close()
        finally:
            limit.release()

    async def _check(self, raw: Any) -> None:
        if time.monotonic() < self._suspect_until:
            from psycopg_pool import AsyncConnectionPool

            await AsyncConnectionPool.check_connection(raw)

    def _check_idle(self) -> None:
        """Check every idle connection of the pool at once, in the background, replacing the
        dropped ones. Left to the pool's `check` on the way out, each dropped one would cost
        the request that draws it a growing pause (the pool backs off between failed
        checks): with a few of them, longer than the pool timeout."""
        pool = self._pool
        if pool is None or self._pool_loop is not asyncio.get_running_loop():
            return
        if self._checking is None or self._checking.done():
            self._checking = asyncio.ensure_future(pool.check())
            self._checking.add_done_callback(_checked)

    async def _on_postgres(self, work: Work[T], write: bool) -> T:
        from psycopg_pool import PoolTimeout

        limit = self.settings.statement_timeout_seconds + 1
        for attempt in range(2):
            try:
                async with self._postgres_connection() as raw:
                    connection = AsyncConnection(raw, self)
                    try:
                        # The server ends a statement past the timeout; this bounds a unit
                        # whose server does not answer at all (a network that stalls).
                        return await _within(limit, _unit(work, connection, write), raw)
                    except self.dialect.loaded_dbapi.OperationalError:
                        if not raw.broken:
                            raise
                        self._suspect_until = time.monotonic() + 10
                        if attempt or connection.answered:
                            raise
                        self._check_idle()
            except PoolTimeout:
                raise ServiceUnavailable(
                    "Every database connection is busy; try again shortly."
                ) from None
            except TimeoutError:
                raise ServiceUnavailable("The database did not answer in time.") from None
        raise AssertionError("unreachable")

    # -- units of work --------------------------------------------------------------------

    async def read(
        self,
        work: Work[T],
        *,
        heavy_for: int | None = None,
    ) -> T:
        """Run a reading unit of work. `heavy_for`: the account of a read that may take long
        (a search): it leaves the event loop, and runs beside at most a few others of the
        same account."""
        if heavy_for is not None:
            semaphore = self._heavy.get(heavy_for)
            if semaphore is None:
                semaphore = self._heavy[heavy_for] = asyncio.Semaphore(self._heavy_per_account)
            async with semaphore:
                if self.is_sqlite:
                    return await self._readers.run(self.read_sync, work)
                return await self._on_postgres(work, write=False)
        if self.is_sqlite:
            return run_to_completion(work(self._sqlite()))
        return await self._on_postgres(work, write=False)

    async def write(self, work: Work[T]) -> T:
        """Run `work` in one transaction: on SQLite on the writer thread."""
        if self.is_sqlite:
            result: T = await self.writer.run(work)
            return result
        return await self._on_postgres(work, write=True)

    async def write_statement(self, statement: ClauseElement, values: Params) -> int:
        """Run one writing statement, atomic by itself: on PostgreSQL without BEGIN and
        COMMIT around it, one round trip. Returns the rows it changed."""
        if self.is_sqlite:
            return await self.write(lambda connection: connection.execute(statement, values))
        return await self._on_postgres(
            lambda connection: connection.execute(statement, values), write=False
        )

    def read_sync(self, work: Work[T]) -> T:
        """Run a reading unit of work on a blocking connection of this thread (on
        PostgreSQL in a transaction, which carries the statement time limit)."""
        with self.connect() as connection:
            if self.is_sqlite:
                return run_to_completion(work(connection))
            with connection.transaction():
                return run_to_completion(work(connection))

    def write_sync(self, work: Work[T]) -> T:
        """Run `work` in one transaction on a blocking connection of this thread: the
        command line's way."""
        with self.connect() as connection, connection.transaction():
            return run_to_completion(work(connection))

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A blocking connection for the length of the block: this thread's on SQLite, a
        new one on PostgreSQL."""
        if self.is_sqlite:
            yield self._sqlite()
            return
        raw = self.open_connection()
        try:
            yield Connection(raw, self)
        finally:
            raw.close()

    def open_connection(self, direct: bool = False) -> Any:
        """A blocking driver connection of its own, in autocommit mode; on PostgreSQL with
        `direct`, to FULFILMENT_DATABASE_DIRECT_URL where it is set."""
        if not self.is_sqlite:
            import psycopg

            return psycopg.connect(**self.connect_args(direct))
        cargs, cparams = self.dialect.create_connect_args(self.url)
        # A thread's connection is used by that thread only (see _sqlite), but closed by
        # whichever thread closes the database.
        cparams["check_same_thread"] = False
        raw: sqlite3.Connection = sqlite3.connect(*cargs, **cparams)  # type: ignore[call-overload]
        self._configure_sqlite(raw)
        raw.execute("PRAGMA foreign_keys=ON")
        return raw

    def reachable(self) -> Coroutine[Any, Any, bool]:
        """Whether the database answers a trivial statement (for `/ready`)."""
        return self.read(_ping)

    async def aclose(self) -> None:
        """Close the async pool (on the event loop it serves), then everything else."""
        if not self.is_sqlite and self._pool is not None:
            if self._checking is not None:
                self._checking.cancel()
            pool, self._pool = self._pool, None
            with contextlib.suppress(Exception):
                await pool.close(timeout=1)
        self.close()

    def close(self) -> None:
        if self.is_sqlite:
            self.writer.shutdown()
            self._readers.shutdown()
            with self._sqlite_lock:
                connections, self._sqlite_connections = self._sqlite_connections, []
            for raw in connections:
                with contextlib.suppress(Exception):
                    raw.close()
            self._local = threading.local()
        elif self._pool is not None:
            # Its loop is gone (a test client's): the connections close with the process.
            self._pool = None
        for marker in self._markers.values():
            marker.close()
        self.engine.dispose()


async def _unit(work: Work[T], connection: AsyncConnection, write: bool) -> T:
    if not write:
        return await work(connection)
    connection.begin()
    try:
        result = await work(connection)
    except BaseException:
        # A connection that fails here is not handed out again (the pool checks it).
        with contextlib.suppress(Exception):
            await connection.end("ROLLBACK")
        raise
    await connection.end("COMMIT")
    return result


async def _within(limit: float, unit: Coroutine[Any, Any, T], raw: Any) -> T:
    """Run `unit` on the psycopg connection `raw`; TimeoutError past `limit` seconds.

    psycopg answers a cancelled statement by asking the server to cancel it and waiting for
    that, up to ten seconds more where the network stalls (again for the rollback of a
    transaction); a further cancellation makes it give up the connection at once. So the
    unit is cancelled until it ends, and its connection closed: one that did not answer in
    time is not handed out again."""
    task = asyncio.ensure_future(unit)
    # Whatever it ends with once given up on is of no more interest (nor to be logged).
    task.add_done_callback(lambda ended: ended.cancelled() or ended.exception())
    try:
        done, _ = await asyncio.wait({task}, timeout=limit)
    finally:
        for _ in range(50):
            if task.done():
                break
            task.cancel()
            await asyncio.wait({task}, timeout=0.1)
    if not done:
        await raw.close()
        raise TimeoutError
    return task.result()


def _checked(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("checking the idle database connections failed: %s", task.exception())


_PING = sa.select(sa.literal(1))


async def _ping(connection: Connection) -> bool:
    return await connection.one(_PING, {}) is not None
