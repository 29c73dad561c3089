"""What the engine runs: a kind of job is a Handler; a job holds a place of the process
while it works (Places); periodic work is a Periodic."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.sql.elements import ClauseElement

from ..clock import utcnow
from ..db import Connection, Database
from .queue import PENDING, Queue

# Jobs running at once in one process. Each round's jobs start together on the event loop:
# with 64, GET one's p99 beside a backlog of deliveries was 83 ms; with 32, 43 ms at 279
# deliveries/s; with 16, 26 ms at 233/s.
PLACES = 32
# Places one account may hold at once: four accounts whose receivers never answer still
# leave a quarter of the places to everyone else.
ACCOUNT_PLACES = PLACES // 4


class Job(Protocol):
    """What the engine reads of a kind's job."""

    @property
    def id(self) -> int: ...
    @property
    def account_id(self) -> int: ...
    @property
    def attempts(self) -> int: ...


class NoPlace(Exception):
    """No place came free while the job's lease still covered an attempt: it goes back,
    unattempted, for the next claim."""


class Result(Protocol):
    @property
    def succeeded(self) -> bool: ...


@dataclass(slots=True)
class Finished:
    """A job's attempt, and what the engine records of it."""

    job: Any
    claim: str
    result: Any
    state: str = PENDING
    next_attempt_at: datetime | None = None


class Places:
    """The places of one process, at most `per_account` of them to one account."""

    def __init__(self, total: int = PLACES, per_account: int = ACCOUNT_PLACES) -> None:
        self._free = asyncio.Semaphore(total)
        self.per_account = per_account
        # account -> (its semaphore, jobs waiting for or holding one of its places)
        self._accounts: dict[int, tuple[asyncio.Semaphore, list[int]]] = {}

    @contextlib.asynccontextmanager
    async def take(self, account_id: int, deadline: float | None = None) -> AsyncIterator[None]:
        """A place for one of the account's jobs, waited for until `deadline` (the event
        loop's time; NoPlace then)."""
        entry = self._accounts.get(account_id)
        if entry is None:
            entry = self._accounts[account_id] = (asyncio.Semaphore(self.per_account), [0])
        entry[1][0] += 1
        try:
            await _acquire(entry[0], deadline)
            try:
                await _acquire(self._free, deadline)
                try:
                    yield
                finally:
                    self._free.release()
            finally:
                entry[0].release()
        finally:
            entry[1][0] -= 1
            if not entry[1][0]:
                del self._accounts[account_id]


class Handler:
    """A kind of job: what its rows are (`queue`), how one is run, and what is recorded
    besides the engine's own columns. Subclasses set `kind`, `queue` and `lease_seconds`."""

    kind: str
    queue: Queue
    lease_seconds: float

    def retry_delay(self, attempts_made: int) -> float | None:
        """Seconds to wait after the `attempts_made`-th attempt failed; None: give up."""
        raise NotImplementedError

    async def load(self, connection: Connection, claim: str) -> Sequence[Job]:
        """The jobs `claim` holds, with what running them needs."""
        raise NotImplementedError

    async def run(self, job: Any, places: Places, lease_end: float) -> Result:
        """One attempt; takes a place (`places.take`) only for the work itself, waiting
        for one no longer than the lease (ending at `lease_end`, the event loop's time)
        leaves room for the attempt."""
        raise NotImplementedError

    async def record(self, connection: Connection, finished: list[Finished]) -> None:
        """The kind's own writes, before the engine finishes the jobs (the claims are still
        theirs, so that a statement can check them)."""

    async def recorded(self, connection: Connection, finished: list[Finished]) -> None:
        """The kind's writes once the jobs are finished."""

    async def aclose(self) -> None:
        """Release what the handler keeps (connections)."""


async def forget_older_than(
    database: Database, days: int, statements: Sequence[ClauseElement]
) -> None:
    """Retention: run `statements` (each deletes what finished before `:before`) in one
    transaction, for what is older than `days`."""
    before = {"before": utcnow() - timedelta(days=days)}

    async def forget(connection: Connection) -> None:
        for statement in statements:
            await connection.execute(statement, before)

    await database.write(forget)


@dataclass(slots=True)
class Periodic:
    """Work done every `every` seconds in each process, the first time after `first`;
    `at_stop`: once more when the engine stops."""

    name: str
    every: float
    run: Callable[[], Awaitable[None]]
    first: float = 0.0
    at_stop: bool = False
    due: float = field(default=0.0)


async def _acquire(semaphore: asyncio.Semaphore, deadline: float | None) -> None:
    if not semaphore.locked():
        await semaphore.acquire()  # at once: no timer to set and cancel
        return
    try:
        async with asyncio.timeout_at(deadline):
            await semaphore.acquire()
    except TimeoutError:
        raise NoPlace from None
