"""argon2id password hashing, run on a thread of its own so the event loop keeps serving."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's argon2id minimum: 19 MiB of memory, two passes, one lane.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)

T = TypeVar("T")

# One argon2id computation at a time per process. Each holds 19 MiB while it runs, and on a
# core of its own more at once are no faster: they only multiply the memory (8 logins at
# once took a worker past 200 MB) and starve the event loop of the core. The thread takes
# the next one from its queue as soon as one ends, rather than when the event loop gets
# round to starting it, so that under a stream of logins the core never waits.
_worker: ThreadPoolExecutor | None = None


def _forget_worker() -> None:
    global _worker
    _worker = None  # a forked child has none of its parent's threads


os.register_at_fork(after_in_child=_forget_worker)


def _behind_requests() -> None:
    """Lower the thread's priority (Linux: a thread has a nice value of its own), so that
    on a core shared with the event loop, requests are answered first and a stream of
    logins takes the time that is left, rather than half of it."""
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 5)


async def _one_at_a_time(work: Callable[..., T], *args: str | None) -> T:
    global _worker
    if _worker is None:
        _worker = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="argon2id", initializer=_behind_requests
        )
    # A caller that goes away before its turn (a cancelled await) takes its work off the
    # queue with it.
    return await asyncio.get_running_loop().run_in_executor(_worker, work, *args)


# A real hash of a random password, verified against when there is no user, so that an
# unknown username costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password: timing equaliser")


def hash_password_sync(password: str) -> str:
    return _hasher.hash(password)


async def hash_password(password: str) -> str:
    return await _one_at_a_time(_hasher.hash, password)


def verify_password_sync(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; always spends one full verification."""
    return await _one_at_a_time(verify_password_sync, password_hash, password)
