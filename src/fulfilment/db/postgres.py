"""PostgreSQL: psycopg's async pool on the event loop that serves requests, a unit of work
run again when its first statement found the connection dropped, a time limit on every
unit, and nothing set on a connection's session, so that a pooler in transaction mode
(PgBouncer) may hand each transaction to another server connection."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import AsyncIterator, Coroutine
from typing import TYPE_CHECKING, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from ..errors import ServiceUnavailable
from ..settings import Settings
from .units import AsyncConnection, Owner, Work

if TYPE_CHECKING:
    import psycopg
    from psycopg.rows import TupleRow
    from psycopg_pool import AsyncConnectionPool

    from .units import AsyncDriver

T = TypeVar("T")
log = logging.getLogger("fulfilment")
BUSY = "Every database connection is busy; try again shortly."


class PostgresPool:
    """The connections units of work run on: the pool's, on the loop it was opened on
    (`start`), or one of their own on any other loop."""

    def __init__(
        self, owner: Owner, settings: Settings, dialect: Dialect, url: sa.URL, direct: sa.URL
    ) -> None:
        self._owner = owner
        self.settings = settings
        self._dialect = dialect
        self._urls = {False: url, True: direct}
        self._pool: AsyncConnectionPool[AsyncDriver] | None = None
        self._pool_loop: asyncio.AbstractEventLoop | None = None
        # The pool's connections free to take (see _room_on_pool).
        self._room: asyncio.Semaphore | None = None
        # Connections of their own for units on a loop the pool does not serve.
        self._unpooled: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )
        # Until then, each connection is checked before use: set when a dropped one is met,
        # since whatever dropped it (a restart, killed backends) has most likely dropped the
        # others too.
        self._suspect_until = 0.0
        self._checking: asyncio.Task[None] | None = None

    def conninfo(self, direct: bool = False) -> str:
        """psycopg's connection string: the URL's (the direct one's with `direct`).
        Connections are opened in autocommit mode and with no server-side prepared
        statements, which a pooler in transaction mode would hand to another client's
        session (see `open`). Nothing else is set for the session (no startup `options`:
        PgBouncer refuses them); the statement time limit is set per transaction (see
        AsyncConnection)."""
        from psycopg.conninfo import make_conninfo

        cargs, cparams = self._dialect.create_connect_args(self._urls[direct])
        assert not cargs
        cparams.pop("context", None)
        return make_conninfo(**cparams)

    def open(self, direct: bool = False) -> psycopg.Connection[TupleRow]:
        """A blocking connection of its own."""
        import psycopg

        return psycopg.connect(self.conninfo(direct), autocommit=True, prepare_threshold=None)

    async def start(self) -> None:
        """Open the pool on the running event loop, the one that will serve requests."""
        if self._pool is not None:
            return
        from psycopg_pool import AsyncConnectionPool

        pool = AsyncConnectionPool(
            self.conninfo(),
            kwargs={"autocommit": True, "prepare_threshold": None},
            min_size=self.settings.pool_size,
            max_size=self.settings.pool_size,
            timeout=self.settings.pool_timeout_seconds,
            check=self._check,
            reconnect_timeout=30,
            name="fulfilment",
            open=False,
        )
        await pool.open(wait=False)
        self._room = asyncio.Semaphore(self.settings.pool_size)
        self._pool, self._pool_loop = pool, asyncio.get_running_loop()

    def _pool_here(self) -> AsyncConnectionPool[AsyncDriver] | None:
        """The pool, when it serves this event loop."""
        if self._pool is not None and self._pool_loop is asyncio.get_running_loop():
            return self._pool
        return None

    async def _room_on_pool(self) -> None:
        """Wait for one of the pool's connections to be free. Waiting here, not in the pool,
        costs a request one future instead of the pool's condition, lock and timer task: the
        pool hands out a connection at once, unless it is replacing one (then it waits with
        its own timeout)."""
        room = self._room
        assert room is not None
        if not room.locked():
            await room.acquire()
            return
        try:
            async with asyncio.timeout(self.settings.pool_timeout_seconds):
                await room.acquire()
        except TimeoutError:
            raise ServiceUnavailable(BUSY) from None

    @contextlib.asynccontextmanager
    async def _own_connection(self) -> AsyncIterator[AsyncDriver]:
        """A connection of its own, for a unit on a loop the pool does not serve."""
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
            raise ServiceUnavailable(BUSY) from None
        try:
            raw = await psycopg.AsyncConnection.connect(
                self.conninfo(), autocommit=True, prepare_threshold=None
            )
            try:
                yield raw
            finally:
                await raw.close()
        finally:
            limit.release()

    async def _check(self, raw: AsyncDriver) -> None:
        if time.monotonic() < self._suspect_until:
            from psycopg_pool import AsyncConnectionPool

            await AsyncConnectionPool.check_connection(raw)

    def _check_idle(self) -> None:
        """Check every idle connection of the pool at once, in the background, replacing the
        dropped ones. Left to the pool's `check` on the way out, each dropped one would cost
        the request that draws it a growing pause (the pool backs off between failed
        checks): with a few of them, longer than the pool timeout."""
        pool = self._pool_here()
        if pool is None:
            return
        if self._checking is None or self._checking.done():
            self._checking = asyncio.ensure_future(pool.check())
            self._checking.add_done_callback(_checked)

    async def run(self, work: Work[T], write: bool) -> T:
        """Run `work` on a connection, in a transaction when it writes; once more on another
        connection when its first statement found this one dropped."""
        from psycopg_pool import PoolTimeout

        for attempt in range(2):
            try:
                pool = self._pool_here()
                if pool is None:
                    async with self._own_connection() as raw:
                        return await self._run_on(raw, work, write, not attempt)
                await self._room_on_pool()
                try:
                    raw = await pool.getconn()
                    try:
                        return await self._run_on(raw, work, write, not attempt)
                    finally:
                        await pool.putconn(raw)
                finally:
                    self._room.release()  # type: ignore[union-attr]
            except _Dropped:
                continue
            except PoolTimeout:
                raise ServiceUnavailable(BUSY) from None
            except TimeoutError:
                raise ServiceUnavailable("The database did not answer in time.") from None
        raise AssertionError("unreachable")

    async def _run_on(self, raw: AsyncDriver, work: Work[T], write: bool, may_retry: bool) -> T:
        connection = AsyncConnection(raw, self._owner)
        try:
            # The server ends a statement past the timeout; this bounds a unit whose server
            # does not answer at all (a network that stalls).
            limit = self.settings.statement_timeout_seconds + 1
            return await _within(limit, _unit(work, connection, write), raw)
        except self._dialect.loaded_dbapi.OperationalError:
            if not raw.broken:
                raise
            self._suspect_until = time.monotonic() + 10
            if not may_retry or connection.answered:
                raise
            self._check_idle()
            raise _Dropped from None

    async def aclose(self) -> None:
        """Close the pool, on the event loop it serves."""
        if self._pool is None:
            return
        if self._checking is not None:
            self._checking.cancel()
        pool, self._pool = self._pool, None
        with contextlib.suppress(Exception):
            await pool.close(timeout=1)

    def close(self) -> None:
        # Its loop is gone (a test client's): the connections close with the process.
        self._pool = None


async def _unit(work: Work[T], connection: AsyncConnection, write: bool) -> T:
    if not write:
        return await work(connection)
    connection.begin()
    try:
        result = await work(connection)
    except BaseException:
        # A connection that fails here is not handed out again (the pool checks it).
        with contextlib.suppress(Exception):
            await connection.end(commit=False)
        raise
    await connection.end(commit=True)
    return result


class _Dropped(Exception):
    """A unit's first statement found its connection dropped: it did nothing."""


# Once a unit is past its time, how often it is cancelled again until it ends.
CANCEL_AGAIN_SECONDS = 0.1


async def _within(limit: float, unit: Coroutine[object, None, T], raw: AsyncDriver) -> T:
    """Run `unit` on the psycopg connection `raw`, in this task; TimeoutError past `limit`
    seconds.

    psycopg answers a cancelled statement by asking the server to cancel it and waiting for
    that, up to ten seconds more where the network stalls (again for the rollback of a
    transaction); a further cancellation makes it give up the connection at once. So past
    its time the unit is cancelled until it ends, and its connection closed: one that did
    not answer in time is not handed out again. A cancellation from elsewhere (the server
    stopping) is passed on as it came."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    expired = 0

    def expire() -> None:
        nonlocal expired
        expired += 1
        task.cancel()
        timers.append(loop.call_later(CANCEL_AGAIN_SECONDS, expire))

    timers = [loop.call_later(limit, expire)]
    try:
        return await unit
    except BaseException:
        if not expired:
            raise
    finally:
        timers[-1].cancel()
    for _ in range(expired):
        task.uncancel()
    await raw.close()
    if task.cancelling():
        raise asyncio.CancelledError
    raise TimeoutError


def _checked(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("checking the idle database connections failed: %s", task.exception())
