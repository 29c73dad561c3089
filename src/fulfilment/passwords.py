"""argon2id password hashing, run on a thread of its own so the event loop keeps serving."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import sys
import threading

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from .threads import Workers

# OWASP's argon2id minimum: 19 MiB of memory, two passes, one lane.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)


def _behind_requests() -> None:
    """Lower the thread's priority (Linux: a thread has a nice value of its own), so that
    on a core shared with the event loop, requests are answered first and a stream of
    logins takes the time that is left, rather than half of it."""
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 5)


# One argon2id computation at a time per process and per queue. Each holds 19 MiB while it
# runs, and on a core of its own more at once are no faster: they only multiply the memory
# (8 logins at once took a worker past 200 MB) and starve the event loop of the core.
# Portal logins and the API's password hashing have a queue each, so that a flood of logins
# does not hold up an API write behind it; the logins' queue is bounded, so a flood is
# refused at once (`Busy`) rather than left waiting for minutes.
LOGIN_QUEUE_LIMIT = 32
_for_api = Workers(1, "argon2id-api", initializer=_behind_requests)
_for_logins = Workers(1, "argon2id-login", initializer=_behind_requests, limit=LOGIN_QUEUE_LIMIT)


def _return_large_blocks_to_the_system() -> None:
    """glibc serves an allocation from mmap only above a threshold that it raises to the
    size of each mmapped block freed: after the first argon2id computation its 19 MiB come
    from the heap of the thread's arena and stay in the process once freed, an arena per
    hashing thread. A fixed threshold of 1 MiB keeps every such block mmapped, given back
    at once."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 1024 * 1024)


_M_MMAP_THRESHOLD = -3
if sys.platform == "linux":
    _return_large_blocks_to_the_system()


# A real hash of a random password, verified against when there is no user, so that an
# unknown username costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password: timing equaliser")


def hash_password_sync(password: str) -> str:
    return _hasher.hash(password)


async def hash_password(password: str) -> str:
    return await _for_api.run(_hasher.hash, password)


def verify_password_sync(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; always spends one full verification. Raises `Busy`
    when the logins' queue is full."""
    return await _for_logins.run(verify_password_sync, password_hash, password)
