"""The database of a process: the SQLAlchemy engine for migrations, the compiled
statements, and where each unit of work runs (see the package's docstring)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypeVar

import sqlalchemy as sa
from sqlalchemy.sql.elements import ClauseElement

from ..settings import Settings
from .postgres import PostgresPool
from .rows import Query
from .sqlite import ChangeMarker, SQLiteConnections, configure
from .units import BlockingConnection, Connection, Params, Statement, Work, run_to_completion

if TYPE_CHECKING:
    from .units import BlockingDriver

T = TypeVar("T")


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
        self.dialect = self.engine.dialect
        self.begin_sql = "BEGIN IMMEDIATE" if self.is_sqlite else "BEGIN"
        self.timeout_sql = (
            "SELECT set_config('statement_timeout', "
            f"'{int(settings.statement_timeout_seconds * 1000)}', true)"
        )
        self.statements: dict[ClauseElement, Statement] = {}
        self.IntegrityError: type[Exception] = self.dialect.loaded_dbapi.IntegrityError
        self.DatabaseError: type[Exception] = self.dialect.loaded_dbapi.Error
        self._markers: dict[str, ChangeMarker] = {}
        # Long reads (a search, a scan) of one account at a time: at most a quarter of the
        # connections (one of the default five), so that one tenant's heavy use leaves the
        # connections, and the database's cores, to everyone else's requests.
        self._heavy_per_account = max(1, settings.pool_size // 4)
        self._heavy: dict[int, asyncio.Semaphore] = {}
        self._sqlite: SQLiteConnections | None = None
        self._postgres: PostgresPool | None = None
        if self.is_sqlite:
            self._sqlite = SQLiteConnections(self, settings, self._open_sqlite)
            self.writer = self._sqlite.writer
            sa.event.listen(self.engine, "connect", self._configure_for_engine)
            sa.event.listen(self.engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        else:
            self._postgres = PostgresPool(self, settings, self.dialect, self.url, self.direct_url)

    def compiled(self, statement: ClauseElement) -> Statement:
        compiled = self.statements.get(statement)
        if compiled is None:
            compiled = self.statements[statement] = Statement(statement, self.dialect)
        return compiled

    def _configure_for_engine(self, raw: sqlite3.Connection, _record: object) -> None:
        # SQLAlchemy issues BEGIN itself (see the "begin" listener); the driver must not.
        configure(raw, self.settings)

    def marker(self, channel: str) -> ChangeMarker:
        """The change marker of `channel` (SQLite files only)."""
        marker = self._markers.get(channel)
        if marker is None:
            assert self.path is not None, "an in-memory database has no change markers"
            marker = self._markers[channel] = ChangeMarker(Path(f"{self.path}-{channel}"))
        return marker

    def signal(self, channel: str) -> None:
        self.marker(channel).touch()

    async def start(self) -> None:
        """Open PostgreSQL's connection pool on the running event loop, the one that will
        serve requests (the application's lifespan calls this). Units of work on any other
        loop, or before this, get a connection of their own."""
        if self._postgres is not None:
            await self._postgres.start()

    # -- units of work --------------------------------------------------------------------

    async def read(self, work: Work[T], *, heavy_for: int | None = None) -> T:
        """Run a reading unit of work. `heavy_for`: the account of a read that may take long
        (a search): it leaves the event loop, and runs beside at most a few others of the
        same account."""
        if heavy_for is not None:
            semaphore = self._heavy.get(heavy_for)
            if semaphore is None:
                semaphore = self._heavy[heavy_for] = asyncio.Semaphore(self._heavy_per_account)
            async with semaphore:
                if self._sqlite is not None:
                    return await self._sqlite.read_aside(work)
                assert self._postgres is not None
                return await self._postgres.run(work, write=False)
        if self._sqlite is not None:
            return self._sqlite.read_here(work)
        assert self._postgres is not None
        return await self._postgres.run(work, write=False)

    async def write(self, work: Work[T]) -> T:
        """Run `work` in one transaction: on SQLite on the writer thread."""
        if self._sqlite is not None:
            return await self._sqlite.write(work)
        assert self._postgres is not None
        return await self._postgres.run(work, write=True)

    async def write_statement(self, statement: ClauseElement, values: Params) -> int:
        """Run one writing statement, atomic by itself: on PostgreSQL without BEGIN and
        COMMIT around it, one round trip. Returns the rows it changed."""
        if self._sqlite is not None:
            return await self.write(lambda connection: connection.execute(statement, values))
        assert self._postgres is not None
        return await self._postgres.run(
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
    def connect(self) -> Iterator[BlockingConnection]:
        """A blocking connection for the length of the block: this thread's on SQLite, a
        new one on PostgreSQL."""
        if self._sqlite is not None:
            yield self._sqlite.thread_connection()
            return
        raw = self.open_connection()
        try:
            yield BlockingConnection(raw, self)
        finally:
            raw.close()

    def open_connection(self, direct: bool = False) -> BlockingDriver:
        """A blocking driver connection of its own, in autocommit mode; on PostgreSQL with
        `direct`, to FULFILMENT_DATABASE_DIRECT_URL where it is set."""
        if self._postgres is not None:
            return self._postgres.open(direct)
        return self._open_sqlite()

    def _open_sqlite(self) -> sqlite3.Connection:
        cargs, cparams = self.dialect.create_connect_args(self.url)
        # A thread's connection is used by that thread only, but closed by whichever thread
        # closes the database.
        cparams["check_same_thread"] = False
        raw: sqlite3.Connection = sqlite3.connect(*cargs, **cparams)  # type: ignore[call-overload]
        configure(raw, self.settings)
        raw.execute("PRAGMA foreign_keys=ON")
        return raw

    def reachable(self) -> Coroutine[object, None, bool]:
        """Whether the database answers a trivial statement (for `/ready`)."""
        return self.read(_ping)

    async def aclose(self) -> None:
        """Close the async pool (on the event loop it serves), then everything else."""
        if self._postgres is not None:
            await self._postgres.aclose()
        self.close()

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._postgres is not None:
            self._postgres.close()
        for marker in self._markers.values():
            marker.close()
        self.engine.dispose()


class _Pong(NamedTuple):
    pong: int


_PING = Query(sa.select(sa.literal(1).label("pong")), _Pong)


async def _ping(connection: Connection) -> bool:
    return await connection.one(_PING, {}) is not None
