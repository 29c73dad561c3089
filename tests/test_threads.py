"""The service's own worker threads: context carried, queue order, and life after a fork."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from contextvars import ContextVar

from fulfilment.threads import Busy, Workers

caller: ContextVar[str] = ContextVar("caller", default="-")


def test_a_job_runs_in_the_callers_context_on_a_thread_of_its_own() -> None:
    workers = Workers(1, "test-context")

    async def main() -> tuple[str, str]:
        caller.set("request-7")
        return await workers.run(lambda: (caller.get(), threading.current_thread().name))

    try:
        seen, thread = asyncio.run(main())
    finally:
        workers.shutdown()
    assert seen == "request-7"
    assert thread.startswith("test-context")


def test_one_thread_takes_jobs_one_after_another() -> None:
    workers = Workers(1, "test-order")
    running: list[int] = []
    overlapped: list[bool] = []

    def job(n: int) -> int:
        overlapped.append(bool(running))
        running.append(n)
        time.sleep(0.01)
        running.remove(n)
        return n

    async def main() -> list[int]:
        return list(await asyncio.gather(*(workers.run(job, n) for n in range(5))))

    try:
        assert asyncio.run(main()) == [0, 1, 2, 3, 4]
    finally:
        workers.shutdown()
    assert overlapped == [False] * 5


def test_a_forked_child_starts_threads_of_its_own() -> None:
    workers = Workers(1, "test-fork")
    assert asyncio.run(workers.run(os.getpid)) == os.getpid()  # the parent's thread runs
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through its exit status
        try:
            ok = asyncio.run(asyncio.wait_for(workers.run(os.getpid), 5)) == os.getpid()
        except BaseException:
            ok = False
        os._exit(0 if ok else 1)
    try:
        deadline = time.monotonic() + 10
        while (done := os.waitpid(child, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        if done[0] == 0:
            os.kill(child, 9)
            os.waitpid(child, 0)
        assert done[0] == child
        assert os.waitstatus_to_exitcode(done[1]) == 0
    finally:
        workers.shutdown()


def test_with_a_limit_more_jobs_are_refused_at_once_until_one_is_done() -> None:
    workers = Workers(1, "test-limit", limit=2)
    release = threading.Event()

    async def main() -> tuple[list[str], float, str]:
        held = [asyncio.ensure_future(workers.run(release.wait, 5)) for _ in range(2)]
        await asyncio.sleep(0.05)
        started = time.monotonic()
        try:
            await workers.run(lambda: "ran")
            refused = "ran"
        except Busy:
            refused = "busy"
        took = time.monotonic() - started
        release.set()
        done = [str(await job) for job in held]
        return [*done, refused], took, await workers.run(lambda: "after")

    try:
        seen, took, after = asyncio.run(main())
    finally:
        workers.shutdown()
    assert seen == ["True", "True", "busy"]
    assert took < 0.05
    assert after == "after"
