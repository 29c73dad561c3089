"""The engine: one per process, for every kind of background work. It claims due jobs of
each kind for a lease (queue.py), runs them through the kind's handler, and records each
outcome with the kind's retry schedule, in one transaction a round; periodic jobs run on
the same loop. Every instance runs one (the app's lifespan starts it); on PostgreSQL and
on SQLite alike they share the work through the leases.

Places are shared fairly: a process runs at most PLACES jobs at once and one account at
most ACCOUNT_PLACES of them, and an account holds at most ACCOUNT_CLAIMS claims, so one
account's slow or dead receivers hold back only its own jobs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from ..db import Connection, Database
from ..observability import JOBS
from .handler import PLACES, Finished, Handler, NoPlace, Periodic, Places
from .queue import DONE, FAILED, PENDING, RELEASED, Queue

log = logging.getLogger("fulfilment.jobs")

# Claims one process holds; one account at most ACCOUNT_CLAIMS (all instances together),
# so that another account's job is claimed in the next round whatever the first has
# waiting.
CLAIMS = 2 * PLACES
ACCOUNT_CLAIMS = PLACES
# After a job ends, how long to wait for others before recording and claiming again:
# fewer, larger rounds cost the database and the event loop less.
GATHER_SECONDS = 0.05
# A job given back for want of a place waits this long before it is claimed again: its
# account's places are busy, and claiming it at once would only give it back again.
RELEASED_FOR_SECONDS = 1.0
STOP_GRACE_SECONDS = 5.0
# PostgreSQL plans a claim from its statistics of the kind's table, which autovacuum renews
# only a minute or more after a burst of writes. A backlog written in a burst (an event
# fanned out to many hooks) was unknown to them meanwhile, and each claim read and sorted
# the whole backlog: 1.1 s a claim with 30,000 deliveries to 100 hooks, 4 ms once the table
# was analysed. So when the backlog's count is more than twice the planner's estimate (and
# more than STALE_ROWS), the table is analysed there and then.
STALE_ROWS = 1000


def now() -> datetime:
    """The engine's one clock: naive UTC to the microsecond (retries may come sooner than
    a second apart when a schedule is shortened in tests)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Engine:
    """`start()` on the event loop that serves requests; `stop()` at shutdown lets the jobs
    under way finish for a few seconds, records them, then leaves the rest to their lease."""

    def __init__(
        self,
        database: Database,
        handlers: Sequence[Handler],
        periodic: Sequence[Periodic] = (),
        instance: str | None = None,
    ) -> None:
        self.database = database
        self.handlers = list(handlers)
        self.periodic = list(periodic)
        self.poll_seconds = database.settings.hooks_poll_seconds
        self.instance = instance or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.places = Places()
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._claims = 0
        self._grace = STOP_GRACE_SECONDS
        self._running: set[asyncio.Task[Finished]] = set()
        self._done: list[tuple[Handler, Finished]] = []

    # -- life ------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._loop = asyncio.get_running_loop()
            self._stopping = asyncio.Event()
            self._wake = asyncio.Event()
            started = time.monotonic()
            for job in self.periodic:
                job.due = started + job.first
            self._task = asyncio.ensure_future(self._run())

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._grace = grace
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), grace + 2)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        """Work was just written: look now rather than at the next poll. Safe from any
        thread or event loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            if _running_loop() is loop:
                self._wake.set()
            else:
                loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        try:
            await self._loop_until_stopped()
            # Stopping: give the jobs under way a little time, record what finished.
            if self._running:
                await asyncio.wait(set(self._running), timeout=self._grace)
            for task in set(self._running):
                task.cancel()
            with contextlib.suppress(Exception):
                await self._exchange(0)
            for job in self.periodic:
                if job.at_stop:
                    await self._run_periodic(job)
        finally:
            for handler in self.handlers:
                await handler.aclose()

    async def _loop_until_stopped(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            # Periodic work first: the backlog's check prepares the claims (STALE_ROWS).
            await self._periodic_due()
            room = CLAIMS - len(self._running)
            try:
                claimed = await self._exchange(room)
                failures = 0
            except Exception as error:
                failures += 1
                log.warning("background jobs: %s", error or type(error).__name__)
                claimed = []
            for handler, job, claim in claimed:
                self._start(handler, job, claim)
            if claimed and len(claimed) == room:
                continue  # every place claimed: more may be due
            await self._wait(self.poll_seconds * (2 ** min(failures, 6)))

    def _start(self, handler: Handler, job: Any, claim: str) -> None:
        lease_end = asyncio.get_running_loop().time() + handler.lease_seconds

        async def attempt() -> Finished:
            try:
                return Finished(job, claim, await handler.run(job, self.places, lease_end))
            except NoPlace:
                return Finished(job, claim, None, RELEASED)

        task = asyncio.ensure_future(attempt())
        self._running.add(task)

        def finished(task: asyncio.Task[Finished]) -> None:
            self._running.discard(task)
            if not task.cancelled() and task.exception() is None:
                self._done.append((handler, task.result()))
            elif not task.cancelled():
                log.error("a %s job failed: %r", handler.kind, task.exception())

        task.add_done_callback(finished)

    async def _wait(self, seconds: float) -> None:
        """Until `seconds` pass, a job finishes, work is written, or the engine stops."""
        waiting: set[asyncio.Future[Literal[True]] | asyncio.Future[Finished]] = {
            asyncio.ensure_future(self._stopping.wait()),
            asyncio.ensure_future(self._wake.wait()),
        }
        waiting |= set(self._running)
        done, _ = await asyncio.wait(waiting, timeout=seconds, return_when="FIRST_COMPLETED")
        self._wake.clear()
        if done and not self._stopping.is_set() and self._running:
            # Jobs tend to end together: record them in one transaction.
            await asyncio.wait(set(self._running), timeout=GATHER_SECONDS)
        for future in waiting:
            if future not in self._running and not future.done():
                future.cancel()

    # -- periodic work -----------------------------------------------------------------------

    async def _periodic_due(self) -> None:
        moment = time.monotonic()
        for job in self.periodic:
            if moment >= job.due:
                job.due = moment + job.every
                await self._run_periodic(job)

    async def _run_periodic(self, job: Periodic) -> None:
        try:
            await job.run()
        except Exception as error:  # the database away, most likely: next time
            log.warning("periodic job %s: %s", job.name, error or type(error).__name__)

    # -- the database -----------------------------------------------------------------------

    async def run_due(self) -> int:
        """One round by hand (the command line, tests): claim what is due, run it, and
        record the outcomes; how many jobs ran."""
        claimed = await self._exchange(CLAIMS)
        for handler, job, claim in claimed:
            self._start(handler, job, claim)
        if self._running:
            await asyncio.wait(set(self._running))
        await self._exchange(0)
        return len(claimed)

    async def _exchange(self, room: int) -> list[tuple[Handler, Any, str]]:
        """Record the jobs that finished and claim up to `room` due ones, in one
        transaction: under a load of writes each transaction waits its turn for SQLite's
        writer (or a pool connection), and one a round rather than two is what lets the
        jobs keep up. With nothing to record it reads first, so that an idle engine writes
        nothing."""
        done, self._done = self._done, []
        moment = now()
        wanted = [h for h in self.handlers if room > 0] if done else []
        if not done and room > 0:
            wanted = await self.database.read(lambda c: _with_due(c, self.handlers, moment))
        if not done and not wanted:
            return []
        by_handler: dict[Handler, list[Finished]] = {}
        for handler, finished in done:
            _decide(handler, finished, moment)
            by_handler.setdefault(handler, []).append(finished)
        self._claims += 1
        claim = f"{self.instance}:{self._claims}"

        async def exchange(connection: Connection) -> list[tuple[Handler, Any, str]]:
            for handler, finished in by_handler.items():
                await self._record(connection, handler, finished, moment)
            left, claimed = room, []
            for handler in wanted:
                if left <= 0:
                    break
                values = {
                    "now": moment,
                    "limit": min(left, ACCOUNT_CLAIMS),
                    "claim": claim,
                    "per_account": ACCOUNT_CLAIMS,
                    "until": moment + timedelta(seconds=handler.lease_seconds),
                }
                if not await connection.all(handler.queue.claim, values):
                    continue
                jobs = await handler.load(connection, claim)
                claimed += [(handler, job, claim) for job in jobs]
                left -= len(jobs)
            return claimed

        try:
            return await self.database.write(exchange)
        except Exception:
            if done:
                # Not recorded: the claims lapse and the jobs are attempted again.
                log.warning("could not record %d finished jobs", len(done))
            raise

    async def _record(
        self, connection: Connection, handler: Handler, done: list[Finished], moment: datetime
    ) -> None:
        later = moment + timedelta(seconds=RELEASED_FOR_SECONDS)
        released = [
            {"id": f.job.id, "claim": f.claim, "next": later} for f in done if f.state == RELEASED
        ]
        if released:
            await connection.execute_many(handler.queue.release, released)
        finished = [f for f in done if f.state != RELEASED]
        if not finished:
            return
        await handler.record(connection, finished)
        rows = [
            {
                "id": f.job.id,
                "claim": f.claim,
                "state": f.state,
                "next_attempt_at": f.next_attempt_at or moment,
                "finished_at": None if f.state == PENDING else moment,
            }
            for f in finished
        ]
        await connection.execute_many(handler.queue.finish, rows)
        await handler.recorded(connection, finished)

    async def refresh_backlog(self) -> None:
        """The metrics' count of jobs by kind and state."""

        async def count(connection: Connection) -> dict[str, dict[str, int]]:
            return {
                handler.kind: {
                    row.state: row.jobs for row in await connection.all(handler.queue.backlog, {})
                }
                for handler in self.handlers
            }

        counts = await self.database.read(count)
        if not self.database.is_sqlite:
            for handler in self.handlers:
                await self._keep_planned(handler.queue, counts[handler.kind].get(PENDING, 0))
        for handler in self.handlers:
            states = counts[handler.kind]
            JOBS.labels(handler.kind, PENDING).set(states.get(PENDING, 0))
            JOBS.labels(handler.kind, DONE).set(states.get(handler.queue.done, 0))
            JOBS.labels(handler.kind, FAILED).set(states.get(FAILED, 0))

    async def _keep_planned(self, queue: Queue, pending: int) -> None:
        """Analyse the queue's table when PostgreSQL's estimate of its pending jobs is far
        below their count (see STALE_ROWS)."""
        if pending <= STALE_ROWS:
            return
        plan = await self.database.read(lambda c: c.one(queue.estimate, {}))
        estimate = plan.plan[0]["Plan"]["Plan Rows"] if plan is not None else 0
        if pending > 2 * estimate:
            log.info("analysing %s: %d pending, %d estimated", queue.table.name, pending, estimate)
            await self.database.write(lambda c: c.execute(queue.analyse, {}))


def _decide(handler: Handler, finished: Finished, moment: datetime) -> None:
    """What becomes of a job after its attempt: done, tried again later, or failed."""
    if finished.state == RELEASED:
        return
    if finished.result.succeeded:
        finished.state = handler.queue.done
        return
    delay = handler.retry_delay(finished.job.attempts + 1)
    if delay is None:
        finished.state = FAILED
    else:
        finished.next_attempt_at = moment + timedelta(seconds=delay)


async def _with_due(
    connection: Connection, handlers: list[Handler], moment: datetime
) -> list[Handler]:
    return [
        h for h in handlers if await connection.one(h.queue.any_due, {"now": moment}) is not None
    ]


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
