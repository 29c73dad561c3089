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
from typing import Any, TypeVar

T = TypeVar("T")

_all: weakref.WeakSet[Workers] = weakref.WeakSet()


class Workers:
    """A fixed number of threads fed from one queue. Each goes from one job to the next
    itself, rather than when the event loop gets round to handing it one, so a stream of
    jobs keeps them busy. Started on first use, and again in a forked child, which has none
    of its parent's threads."""

    def __init__(
        self, count: int, name: str, initializer: Callable[[], None] | None = None
    ) -> None:
        self.count = count
        self.name = name
        self.initializer = initializer
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        _all.add(self)

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """`work(*args)` on one of the threads, in the caller's context (its request id in
        log lines). A caller that goes away before its turn takes its job off the queue; one
        whose job has started gets no answer, but the job completes."""
        job = functools.partial(contextvars.copy_context().run, work, *args)
        return await asyncio.get_running_loop().run_in_executor(self._started(), job)

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


def _after_fork_in_child() -> None:
    for workers in list(_all):
        workers._forget_threads()


os.register_at_fork(after_in_child=_after_fork_in_child)
