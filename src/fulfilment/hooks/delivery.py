"""The delivery worker: claims due deliveries for a lease, POSTs them, and records each
attempt. Every instance runs one (the app's lifespan starts it); on PostgreSQL they share
the work through `FOR UPDATE SKIP LOCKED`, on SQLite one process at a time holds a lock
file and delivers."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from ..accounts import audit
from ..db import Database, Row, utcnow
from . import queries
from .attempts import TIMEOUT_SECONDS, Claimed, Outcome, Sender

log = logging.getLogger("fulfilment.hooks")

# Seconds from a failed attempt to the next: the first retry within 10 s, the second
# within 30 s of the first attempt, and the whole schedule spans about 12.7 hours.
RETRY_SCHEDULE = (5, 20, 120, 600, 1800, 3600, 3 * 3600, 8 * 3600)
ATTEMPTS = len(RETRY_SCHEDULE) + 1
# Deliveries in flight at once in one process. Each batch's attempts start together on
# the event loop: with 64, GET one's p99 beside a backlog was 83 ms; with 32, 43 ms at
# 279 deliveries/s; with 16, 26 ms at 233/s.
IN_FLIGHT = 32
RETENTION_EVERY_SECONDS = 600
# After an attempt ends, how long to wait for others before recording and claiming again:
# fewer, larger batches cost the database and the event loop less.
GATHER_SECONDS = 0.05


def _logged(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    return [
        {
            "id": o.delivery.iddelivery,
            "claim": o.claim,
            "attempted_at": o.attempted_at,
            "status": o.status,
            "duration_ms": o.duration_ms,
            "error": o.error,
            "response": o.response,
        }
        for o in outcomes
    ]


async def execute_many(
    database: Database, connection: Any, statement: Any, rows: list[dict[str, Any]]
) -> None:
    """Run `statement` once for each of `rows`: with the driver's executemany, which on
    PostgreSQL sends them all before reading any answer."""
    compiled = database.compiled(statement)
    values = [compiled.parameters(row) for row in rows]
    if database.is_sqlite:
        connection.raw.executemany(compiled.sql, values)
        return
    async with connection.raw.cursor() as cursor:
        await cursor.executemany(compiled.sql, values)


def precise_now() -> datetime:
    """Now in naive UTC to the microsecond: retries come sooner than a second apart when
    the schedule is shortened (FULFILMENT_HOOKS_RETRY_SCALE)."""
    return datetime.now(UTC).replace(tzinfo=None)


def retry_delay(attempts_made: int, scale: float) -> float:
    """Seconds to wait after the `attempts_made`-th attempt failed."""
    return RETRY_SCHEDULE[attempts_made - 1] * scale


def _recording(
    done: list[Outcome], now: datetime, scale: float
) -> Callable[[Database, Any], Awaitable[None]]:
    """The writes that record `done`'s outcomes, for a unit of work to run."""
    succeeded = {o.delivery.idhook for o in done if o.succeeded}
    final = [o for o in done if not o.succeeded and o.delivery.attempts + 1 >= ATTEMPTS]
    batch = [o for o in done if o.succeeded or o.delivery.attempts + 1 < ATTEMPTS]
    finish = [
        {
            "id": o.delivery.iddelivery,
            "claim": o.claim,
            "state": "delivered" if o.succeeded else "pending",
            "next_attempt_at": now
            if o.succeeded
            else now + timedelta(seconds=retry_delay(o.delivery.attempts + 1, scale)),
            "finished_at": now if o.succeeded else None,
        }
        for o in batch
    ]

    async def write(database: Database, connection: Any) -> None:
        if batch:
            # Two statements for the whole batch (psycopg pipelines them): the log first,
            # while the claims still say whose the attempts were.
            await execute_many(database, connection, queries.LOG_CLAIMED_ATTEMPT, _logged(batch))
            await execute_many(database, connection, queries.FINISH, finish)
        for outcome in final:
            # The schedule ran out: rare, one by one, and the published rule applied.
            delivery = outcome.delivery
            changed = await connection.execute(
                queries.FINISH,
                {
                    "id": delivery.iddelivery,
                    "claim": outcome.claim,
                    "state": "failed",
                    "next_attempt_at": now,
                    "finished_at": now,
                },
            )
            if not changed:
                continue  # the lease ran out and another instance took it over
            await connection.execute(queries.LOG_ATTEMPT, _logged([outcome])[0])
            deactivated = await connection.execute(
                queries.DEACTIVATE_FAILING,
                {"idhook": delivery.idhook, "since": delivery.triggered_at, "now": now},
            )
            if deactivated:
                await audit.record(
                    connection, delivery.account_id, audit.SYSTEM, "hook", delivery.idhook,
                    delivery.name, "deactivate", {"because": "failing"},
                )  # fmt: skip
        for idhook in succeeded:
            await connection.execute(queries.SUCCEEDED, {"idhook": idhook, "now": now})

    return write


class DeliveryWorker:
    """One per process. `start()` on the event loop that serves requests; `stop()` at
    shutdown lets attempts under way finish for a few seconds, then leaves the rest to
    their lease."""

    def __init__(self, database: Database, instance: str | None = None) -> None:
        self.database = database
        self.settings = database.settings
        self.instance = instance or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.timeout = min(TIMEOUT_SECONDS, self.settings.hooks_lease_seconds - 1.0)
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._claims = 0
        self._in_flight: set[asyncio.Task[Outcome]] = set()
        self._done: list[Outcome] = []
        self._lock_fd: int | None = None
        self._sender = Sender(database, self.timeout)
        self._forgotten_at = 0.0

    # -- life ------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._stopping = asyncio.Event()
            self._task = asyncio.ensure_future(self.run())

    async def stop(self, grace: float = 5.0) -> None:
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace + 1)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def run(self) -> None:
        """Deliver until stopped."""
        try:
            if not await self._take_lock():
                return
            await self._loop()
        finally:
            await self._sender.aclose()
            self._release_lock()

    async def _loop(self) -> None:
        poll = self.settings.hooks_poll_seconds
        failures = 0
        while not self._stopping.is_set():
            try:
                room = IN_FLIGHT - len(self._in_flight)
                claimed = await self._exchange(room)
                for delivery, claim in claimed:
                    task = asyncio.ensure_future(self._sender.attempt(delivery, claim))
                    self._in_flight.add(task)
                    task.add_done_callback(self._finished)
                await self._forget_old()
                failures = 0
            except Exception as error:
                failures += 1
                log.warning("hook deliveries: %s", error or type(error).__name__)
                claimed, room = [], 0
            if claimed and len(claimed) == room and len(self._in_flight) < IN_FLIGHT:
                continue  # a full batch: more may be due
            await self._wait(poll * (2 ** min(failures, 6)))
        # Stopping: give attempts under way a little time, record what finished.
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=5)
        for task in set(self._in_flight):
            task.cancel()
        with contextlib.suppress(Exception):
            await self._exchange(0)

    def _finished(self, task: asyncio.Task[Outcome]) -> None:
        self._in_flight.discard(task)
        if not task.cancelled() and task.exception() is None:
            self._done.append(task.result())

    async def _wait(self, seconds: float) -> None:
        """Until `seconds` pass, an attempt finishes, or the worker is told to stop."""
        waiting: set[asyncio.Future[Any]] = {asyncio.ensure_future(self._stopping.wait())}
        waiting |= set(self._in_flight)
        done, _ = await asyncio.wait(waiting, timeout=seconds, return_when="FIRST_COMPLETED")
        if done and not self._stopping.is_set() and self._in_flight:
            # Attempts tend to end together: record them in one transaction.
            await asyncio.wait(set(self._in_flight), timeout=GATHER_SECONDS)
        for future in waiting:
            if future not in self._in_flight and not future.done():
                future.cancel()

    # -- SQLite: one process at a time ----------------------------------------------------

    async def _take_lock(self) -> bool:
        """On a SQLite file, wait for the lock file beside it; True once held (always on
        PostgreSQL), False when told to stop first."""
        path = self.database.path
        if path is None:
            return True
        fd = os.open(f"{path}-hooks.lock", os.O_RDWR | os.O_CREAT, 0o600)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                try:
                    await asyncio.wait_for(self._stopping.wait(), 1.0)
                except TimeoutError:
                    continue
                os.close(fd)
                return False
            self._lock_fd = fd
            return True

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the lock
            self._lock_fd = None

    # -- the database -----------------------------------------------------------------------

    async def _exchange(self, room: int) -> list[tuple[Claimed, str]]:
        """Record the attempts that finished and claim up to `room` due deliveries, in one
        transaction. Under a load of writes each transaction waits its turn for SQLite's
        writer (or a pool connection): one a round rather than two is what lets deliveries
        keep up with the changes. With nothing to record it reads first, so that an idle
        worker writes nothing."""
        done, self._done = self._done, []
        now = precise_now()
        if not done and (
            room <= 0
            or await self.database.read(lambda c: c.one(queries.ANY_DUE, {"now": now})) is None
        ):
            return []
        record = _recording(done, now, self.settings.hooks_retry_scale)
        claim = ""
        if room > 0:
            self._claims += 1
            claim = f"{self.instance}:{self._claims}"
        values = {
            "now": now,
            "limit": room,
            "claim": claim,
            "until": now + timedelta(seconds=self.settings.hooks_lease_seconds),
        }

        async def exchange(connection: Any) -> list[Row]:
            await record(self.database, connection)
            if not claim or not await connection.all(queries.CLAIM, values):
                return []
            rows: list[Row] = await connection.all(queries.CLAIMED, {"claim": claim})
            return rows

        try:
            rows = await self.database.write(exchange)
        except Exception:
            if done:
                # Not recorded: the claims lapse and the deliveries are attempted again.
                log.warning("could not record %d hook delivery attempts", len(done))
            raise
        return [(Claimed.from_row(row), claim) for row in rows]

    async def _forget_old(self) -> None:
        """Retention: finished deliveries and their attempts older than the set days."""
        if time.monotonic() - self._forgotten_at < RETENTION_EVERY_SECONDS:
            return
        self._forgotten_at = time.monotonic()
        before = {"before": utcnow() - timedelta(days=self.settings.hooks_log_retention_days)}

        async def forget(connection: Any) -> None:
            await connection.execute(queries.FORGET_ATTEMPTS, before)
            await connection.execute(queries.FORGET_DELIVERIES, before)
            await connection.execute(queries.FORGET_EVENTS, before)

        await self.database.write(forget)


async def deliver_until_stopped(database: Database, stop: asyncio.Event) -> None:
    """Run a worker alone (`fulfilment hooks deliver`) until `stop` is set."""
    await database.start()
    worker = DeliveryWorker(database)
    worker.start()
    await stop.wait()
    await worker.stop()
    await database.aclose()
