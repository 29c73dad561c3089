"""Threads of the service's own that the event loop hands blocking work to."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar, TypeVarTuple

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class Busy(Exception):
    """The workers already have as many jobs as they may hold: this one is refused."""


_all: weakref.WeakSet[Workers] = weakref.WeakSet()


class Workers:
    """A fixed number of threads fed from one queue. Each goes from one job to the next
    itself, rather than when the event loop gets round to handing it one, so a stream of
    jobs keeps them busy. Started on first use, and again in a forked child, which has none
    of its parent's threads. With `limit`, at most that many jobs are held (running or
    queued); more are refused with `Busy` at once rather than left to wait their turn."""

    def __init__(
        self,
        count: int,
        name: str,
        initializer: Callable[[], None] | None = None,
        limit: int | None = None,
    ) -> None:
        self.count = count
        self.name = name
        self.initializer = initializer
        self.limit = limit
        self._held = 0
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        _all.add(self)

    async def run(self, work: Callable[[*Ts], T], *args: *Ts) -> T:
        """`work(*args)` on one of the threads, in the caller's context (its request id in
        log lines). A caller that goes away before its turn takes its job off the queue; one
        whose job has started gets no answer, but the job completes."""
        job = functools.partial(contextvars.copy_context().run, work, *args)
        executor = self._started()
        with self._lock:
            if self.limit is not None and self._held >= self.limit:
                raise Busy(f"{self.name}: {self._held} jobs waiting already")
            self._held += 1
        try:
            submitted = executor.submit(job)
        except BaseException:
            self._release(None)
            raise
        # Released when the job is done or taken off the queue, not when its caller leaves.
        submitted.add_done_callback(self._release)
        return await asyncio.wrap_future(submitted)

    def _release(self, _: object) -> None:
        with self._lock:
            self._held -= 1

    def _started(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    self.count, thread_name_prefix=self.name, initializer=self.initializer
                )
            return self._executor

    def shutdown(self) -> None:
        """Finish the job that runs, drop the queued ones."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _forget_threads(self) -> None:
        self._lock = threading.Lock()
        self._executor = None
        self._held = 0


def _after_fork_in_child() -> None:
    for workers in list(_all):
        workers._forget_threads()


os.register_at_fork(after_in_child=_after_fork_in_child)
