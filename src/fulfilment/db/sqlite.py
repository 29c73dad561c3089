"""SQLite: the connection each thread keeps, the writer thread that commits the units
waiting for it together (group_commit.py), the readers for long reads, and the change
markers beside the file through which processes learn of each other's changes."""

from __future__ import annotations

import contextlib
import mmap
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from ..settings import Settings
from ..threads import Workers
from .group_commit import GroupCommitter
from .units import Owner, SQLiteConnection, Work, run_to_completion

T = TypeVar("T")

# SQLite stores timestamps as ISO text, the same text SQLAlchemy's DateTime type writes.
sqlite3.register_adapter(datetime, lambda value: value.isoformat(" "))


def configure(raw: sqlite3.Connection, settings: Settings) -> None:
    """What every connection to the file sets: autocommit at the driver (the units say
    BEGIN), the write-ahead log, the sync level, and how long to wait for the lock."""
    raw.isolation_level = None
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute(f"PRAGMA synchronous={settings.sqlite_synchronous.upper()}")
    raw.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")


class SQLiteConnections:
    """A connection per thread: the event loop's, the writer's, the readers', and
    whichever thread the command line runs on."""

    def __init__(
        self, owner: Owner, settings: Settings, connect: Callable[[], sqlite3.Connection]
    ) -> None:
        self._owner = owner
        self._connect = connect
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # SQLite takes one writer at a time: more threads would only meet in its busy
        # handler, which sleeps milliseconds between tries. The one commits the units
        # that wait for it together.
        self.writer = GroupCommitter(self.thread_connection, owner.signal)
        self._readers = Workers(max(1, settings.pool_size - 1), "db-read")

    def thread_connection(self) -> SQLiteConnection:
        """This thread's connection."""
        connection: SQLiteConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            raw = self._connect()
            with self._lock:
                self._connections.append(raw)
            connection = self._local.connection = SQLiteConnection(raw, self._owner)
        return connection

    def read_here(self, work: Work[T]) -> T:
        """Run a reading unit to completion on this thread's connection."""
        return run_to_completion(work(self.thread_connection()))

    async def read_aside(self, work: Work[T]) -> T:
        """Run a long reading unit on a reader thread, off the event loop."""
        result: T = await self._readers.run(self.read_here, work)
        return result

    async def write(self, work: Work[T]) -> T:
        result: T = await self.writer.run(work)
        return result

    def close(self) -> None:
        self.writer.shutdown()
        self._readers.shutdown()
        with self._lock:
            connections, self._connections = self._connections, []
        for raw in connections:
            with contextlib.suppress(Exception):
                raw.close()
        self._local = threading.local()


class ChangeMarker:
    """A small file beside a SQLite database that every committed change on one channel
    overwrites with fresh random bytes, so that the processes sharing the file learn of the
    change by reading it (`version()`: from a shared mapping of the file, without a system
    call), without asking the database. A marker deleted or replaced by another file is
    noticed: the open file is checked against the path at most once a `RECHECK_SECONDS`,
    and mapped again when they differ."""

    SIZE = 16
    RECHECK_SECONDS = 0.5

    def __init__(self, path: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self._map: mmap.mmap | None = None
        self._identity: tuple[int, int] | None = None
        # The identity of the mapped file is part of the version: a new file, even one
        # holding the same bytes, means changes may have been missed.
        self._identity_bytes = b""
        self._checked = 0.0
        self._clock = clock

    def version(self) -> bytes | None:
        """The marker's current bytes; None when the file cannot be read."""
        try:
            now = self._clock()
            if self._map is not None and now - self._checked >= self.RECHECK_SECONDS:
                self._checked = now
                if self._replaced():
                    self.close()
            if self._map is None:
                self._open()
                self._checked = now
            assert self._map is not None
            return self._map[: self.SIZE] + self._identity_bytes
        except (OSError, ValueError):
            self.close()
            return None

    def _open(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            opened = os.fstat(fd)
            if opened.st_size < self.SIZE:
                # A new marker: zeros until the first change. Extending never overwrites
                # bytes a change wrote meanwhile.
                os.ftruncate(fd, max(self.SIZE, os.fstat(fd).st_size))
            self._map = mmap.mmap(fd, self.SIZE, prot=mmap.PROT_READ)
        finally:
            os.close(fd)
        self._identity = (opened.st_dev, opened.st_ino)
        self._identity_bytes = repr(self._identity).encode()

    def _replaced(self) -> bool:
        try:
            current = os.stat(self.path)
        except FileNotFoundError:
            return True
        return (
            not stat.S_ISREG(current.st_mode) or (current.st_dev, current.st_ino) != self._identity
        )

    def touch(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, os.urandom(self.SIZE), 0)
        finally:
            os.close(fd)

    def close(self) -> None:
        if self._map is not None:
            with contextlib.suppress(OSError, ValueError):
                self._map.close()
            self._map = None
            self._identity = None
            self._identity_bytes = b""
