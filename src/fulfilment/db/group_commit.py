"""SQLite's writer thread, committing the units of work that wait for it together: one
transaction, a savepoint for each unit, one sync of the log for all of them.

SQLite takes one writer at a time, and with `synchronous=FULL` every commit waits for the
disk. Alone, each unit paid a transaction and a sync of its own (a fifth of a millisecond
of CPU in the kernel, on the benchmark machine, beside the waiting) and a wake-up of the
event loop; under load the units queue anyway, and this lets those in the queue share.

A unit's caller hears of it only once the transaction holding it is committed, so an
answered write is on disk as before. A unit that fails is rolled back to its savepoint,
leaving the others; when SQLite itself ends the transaction (a full disk, an I/O error),
the units already run in it are answered with that error, never with success."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import threading
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar, TypeVarTuple, cast

if TYPE_CHECKING:
    from .units import SQLiteConnection, Work

T = TypeVar("T")
Ts = TypeVarTuple("Ts")
log = logging.getLogger("fulfilment")

# At most this many units in one transaction: a bound on how long the first of them
# waits for the last.
MOST_UNITS = 64


@dataclass(slots=True, eq=False)
class _Job:
    work: Work[object]
    context: contextvars.Context
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[object]
    result: object = None
    error: BaseException | None = None
    signals: list[str] = field(default_factory=list)

    def fail(self, error: BaseException) -> None:
        self.result, self.error = None, error


_all: weakref.WeakSet[GroupCommitter] = weakref.WeakSet()


class GroupCommitter:
    """One thread that runs write units on its SQLite connection, in groups."""

    def __init__(
        self,
        connection: Callable[[], SQLiteConnection],
        touch: Callable[[str], None],
        name: str = "db-write",
    ) -> None:
        self._connection = connection  # this thread's connection, when called on it
        self._touch = touch  # a change marker, once its change is committed
        self.name = name
        # Transactions committed and units in them, for the tests and /metrics.
        self.transactions = 0
        self.units = 0
        self._counted: tuple[Callable[[], None], Callable[[float], None]]
        self._forget_thread()
        _all.add(self)

    def _forget_thread(self) -> None:
        self._queue: deque[_Job] = deque()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    async def run(self, work: Work[T]) -> T:
        """`work` in a transaction with whatever else is waiting, in the caller's context
        (its request id in log lines). A caller that goes away before its turn takes its
        unit off the queue; one whose unit has started gets no answer, but the unit
        completes."""
        loop = asyncio.get_running_loop()
        job = _Job(work, contextvars.copy_context(), loop, loop.create_future())
        with self._ready:
            if self._stopping:
                raise RuntimeError("the database is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
                self._thread.start()
            self._queue.append(job)
            self._ready.notify()
        # The future holds what `work` returned.
        return cast(T, await job.future)

    def shutdown(self) -> None:
        """Finish the group that runs; the units still queued are cancelled."""
        with self._ready:
            self._stopping = True
            thread, dropped = self._thread, list(self._queue)
            self._queue.clear()
            self._ready.notify_all()
        for job in dropped:
            _call_soon(job.loop, job.future.cancel)
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    # -- on the thread ------------------------------------------------------------------------

    def _serve(self) -> None:
        from ..observability import SQLITE_COMMITS, SQLITE_COMMITTED_UNITS

        self._counted = (SQLITE_COMMITS.inc, SQLITE_COMMITTED_UNITS.inc)
        while True:
            with self._ready:
                while not self._queue and not self._stopping:
                    self._ready.wait()
                if not self._queue:
                    return
                group = [self._queue.popleft() for _ in range(min(len(self._queue), MOST_UNITS))]
            # Read across threads, but only ever set on the loop: at worst a unit whose
            # caller has just left is run, as one that had started would be.
            group = [job for job in group if not job.future.cancelled()]
            if not group:
                continue
            connection: SQLiteConnection | None = None
            try:
                connection = self._connection()
                self._commit(connection, group)
            except Exception as error:
                # Whatever it was, no caller is left waiting, and none is told of success.
                log.exception("the SQLite writer failed")
                if connection is not None and connection.raw.in_transaction:
                    with contextlib.suppress(Exception):
                        connection.raw.execute("ROLLBACK")
                for job in group:
                    job.fail(error)
            _settle(group)

    def _commit(self, connection: SQLiteConnection, group: list[_Job]) -> None:
        raw = connection.raw
        waiting = group
        while waiting:
            try:
                raw.execute("BEGIN IMMEDIATE")
            except Exception as error:
                for job in waiting:
                    job.fail(error)
                return
            done: list[_Job] = []
            left: list[_Job] = []
            for index, job in enumerate(waiting):
                if not self._run_one(connection, job):
                    if job.error is not None and not raw.in_transaction:
                        # SQLite ended the transaction: what ran in it is undone.
                        for earlier in done:
                            earlier.fail(job.error)
                        done, left = [], waiting[index + 1 :]
                        break
                    continue
                done.append(job)
            if raw.in_transaction:
                try:
                    raw.execute("COMMIT")
                except Exception as error:
                    with contextlib.suppress(Exception):
                        raw.execute("ROLLBACK")
                    for job in done:
                        job.fail(error)
                else:
                    self.transactions += 1
                    self.units += len(done)
                    count_commit, count_units = self._counted
                    count_commit()
                    count_units(len(done))
                    for channel in {channel for job in done for channel in job.signals}:
                        self._touch(channel)
            waiting = left

    def _run_one(self, connection: SQLiteConnection, job: _Job) -> bool:
        """Run one unit inside its savepoint; False when it failed (and was undone)."""
        from .units import run_to_completion

        raw = connection.raw
        connection._signals = job.signals
        try:
            raw.execute("SAVEPOINT unit")
            job.result = job.context.run(lambda: run_to_completion(job.work(connection)))
            raw.execute("RELEASE unit")
            return True
        except BaseException as error:
            job.fail(error)
            if raw.in_transaction:
                try:
                    raw.execute("ROLLBACK TO unit")
                    raw.execute("RELEASE unit")
                except Exception:
                    # The savepoint is gone with whatever went wrong: end it all.
                    with contextlib.suppress(Exception):
                        raw.execute("ROLLBACK")
            return False
        finally:
            connection._signals = None


def _settle(group: list[_Job]) -> None:
    """Answer each unit's caller on its own event loop: one wake-up per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
    for job in group:
        by_loop.setdefault(job.loop, []).append(job)
    for loop, jobs in by_loop.items():
        _call_soon(loop, _answer, jobs)


def _answer(jobs: list[_Job]) -> None:
    for job in jobs:
        if job.future.done():
            continue  # its caller went away
        if job.error is not None:
            job.future.set_exception(job.error)
        else:
            job.future.set_result(job.result)


def _call_soon(
    loop: asyncio.AbstractEventLoop, callback: Callable[[*Ts], object], *args: *Ts
) -> None:
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
        loop.call_soon_threadsafe(callback, *args)


def _after_fork_in_child() -> None:
    for committer in list(_all):
        committer._forget_thread()


os.register_at_fork(after_in_child=_after_fork_in_child)
