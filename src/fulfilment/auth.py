"""Who is calling: HTTP Basic with an API key as the username, and the account's host rule."""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
import threading
from base64 import b64decode
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from starlette.requests import Request

from .clock import utcnow
from .db import Connection, Database, Query
from .errors import Forbidden, Unauthenticated
from .tables import accounts, api_keys, staff_users

if TYPE_CHECKING:
    import psycopg
    from psycopg.rows import TupleRow

READ_CHANGE_COUNTER = "SELECT version FROM change_counters WHERE channel = %s"

log = logging.getLogger("fulfilment")
SUBDOMAIN = re.compile(r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# Sent by every change that can make a cached key wrong (a revocation); see KeyCache.
KEYS_CHANGED = "fulfilment_api_keys_changed"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated API key and the account it belongs to."""

    api_key_id: int
    # The first characters of the key's hash: names the key in shared counters, unlike the
    # id, never the same for two keys even across databases.
    api_key_tag: str
    api_key_name: str
    account_id: int
    subdomain: str
    timezone: ZoneInfo
    # Set for a key that a fulfilment customer uses itself.
    idfulfilment_customer: int | None
    # (iduser, username) of the staff user acting in the back office, which has no API key:
    # the audit trail names the user instead.
    staff_user: tuple[int, str] | None = None

    def require_full_access(self) -> None:
        if self.idfulfilment_customer is not None:
            raise Forbidden("This API key belongs to a fulfilment customer and may not use this.")


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def api_key_from_header(header: str | None) -> str:
    """The username of an HTTP Basic `Authorization` header; the password is ignored."""
    if not header:
        raise Unauthenticated("Authenticate with HTTP Basic: your API key as the username.")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise Unauthenticated("Authenticate with HTTP Basic: your API key as the username.")
    try:
        decoded = b64decode(encoded.strip(), validate=True).decode("utf-8")
    except ValueError:
        # binascii.Error, UnicodeDecodeError, and the ValueError that b64decode raises for
        # a header holding characters outside ASCII.
        raise Unauthenticated("The Authorization header is not valid HTTP Basic.") from None
    key = decoded.split(":", 1)[0]
    if not key:
        raise Unauthenticated("Authenticate with HTTP Basic: your API key as the username.")
    return key


def host_subdomain(host: str | None) -> str | None:
    """`acme.example.com:443` -> `acme`; None for an IP address or a one-label host."""
    if not host:
        return None
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    label, dot, _ = name.partition(".")
    if not dot:
        return None
    label = label.lower()
    return label if SUBDOMAIN.match(label) else None


class KeyCache:
    """Callers already authenticated, so that a request need not ask the database who is
    calling. Each entry is kept under the version of the key changes it was read at
    (`KeyChanges.version`), and all are dropped once that moves: a revoked key is refused as
    soon as its revocation is signalled, milliseconds after its commit. While the version
    is unknown (None), nothing is kept."""

    MAX_ENTRIES = 10_000

    def __init__(self, version: Callable[[], Hashable | None]) -> None:
        self.version = version
        self._entries: dict[str, Principal] = {}
        self._seen: Hashable | None = None
        self._lock = threading.Lock()

    def get(self, key_hash: str, version: Hashable | None) -> Principal | None:
        if version is None:
            return None
        if version != self._seen:
            with self._lock:
                self._entries = {}
                self._seen = version
        return self._entries.get(key_hash)

    def __len__(self) -> int:
        return len(self._entries)

    def store(self, key_hash: str, principal: Principal, version: Hashable | None) -> None:
        """Keep `principal`, looked up at `version`, unless a change came since."""
        if version is None or self.version() != version:
            return
        with self._lock:
            if version != self._seen:
                return
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries = {}
            self._entries[key_hash] = principal


class KeyChanges:
    """Where the version of the API keys comes from. On PostgreSQL a thread watches the
    KEYS_CHANGED channel on a connection of its own: it LISTENs where there is a direct
    connection (FULFILMENT_DATABASE_DIRECT_URL) and counts the notifications; otherwise (a
    pooler in transaction mode hands a LISTEN's session to other clients) it reads the
    channel's counter every POLL_SECONDS, so a change reaches the cache that late. While it
    is not connected the version is unknown. On SQLite each change rewrites a marker file
    beside the database (see ChangeMarker), and the version is its content: one read."""

    POLL_SECONDS = 1.0

    def __init__(self, database: Database) -> None:
        self.database = database
        self._count = 0
        self._watching = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.version: Callable[[], Hashable | None]
        if not database.is_sqlite:
            self.version = self._notifications
        elif database.path is not None:
            self.version = database.marker(KEYS_CHANGED).version
        else:  # in memory: a single process, whose own writes pass no signal
            self.version = lambda: None

    def _notifications(self) -> int | None:
        return self._count if self._watching else None

    def start(self) -> None:
        if self.database.is_sqlite:
            return
        self._thread = threading.Thread(target=self._run, name="api-key-changes", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        direct = self.database.settings.database_direct_url is not None
        watch = self._listen if direct else self._poll
        while not self._stop.is_set():
            try:
                raw = self.database.open_connection(direct=True)
                assert not isinstance(raw, sqlite3.Connection)  # watched on PostgreSQL only
                try:
                    watch(raw)
                finally:
                    self._watching = False
                    raw.close()
            except self.database.DatabaseError as error:
                # The database restarted or the connection was killed: a passing condition,
                # logged in one line; keys are looked up every time until it is back.
                log.warning("not watching for API key changes (%s); retrying", error)
            self._stop.wait(1)

    def _listen(self, raw: psycopg.Connection[TupleRow]) -> None:
        raw.execute(f"LISTEN {KEYS_CHANGED}")
        # Changes may have come while not listening: a new version.
        self._count += 1
        self._watching = True
        while not self._stop.is_set():
            for _ in raw.notifies(timeout=0.5, stop_after=1):
                self._count += 1

    def _poll(self, raw: psycopg.Connection[TupleRow]) -> None:
        while not self._stop.is_set():
            row = raw.execute(READ_CHANGE_COUNTER, (KEYS_CHANGED,)).fetchone()
            self._count = 0 if row is None else row[0]
            self._watching = True
            self._stop.wait(self.POLL_SECONDS)


class KeyUsage:
    """When each key was last used, written off the request's path: a request only notes
    its key's id, and every `INTERVAL` (a periodic job of the engine, jobs/kinds.py) one
    transaction writes the time of the keys noted since.
    A key's time that another worker wrote less than `INTERVAL` ago is left alone, so a key
    costs at most one write a minute whatever the traffic and the number of workers."""

    INTERVAL = timedelta(minutes=1)

    def __init__(self, database: Database) -> None:
        self.database = database
        self._used: set[int] = set()

    def note(self, api_key_id: int) -> None:
        self._used.add(api_key_id)

    async def flush(self) -> None:
        """Write the time of the keys noted since the last flush."""
        if not self._used:
            return
        used, self._used = self._used, set()
        now = utcnow()
        before = now - self.INTERVAL

        async def record(connection: Connection) -> None:
            for api_key_id in sorted(used):
                values = {"id": api_key_id, "at": now, "before": before}
                await connection.execute(RECORD_KEY_USED, values)

        try:
            await self.database.write(record)
        except Exception as error:  # the database is away: try again next time
            self._used |= used
            log.warning("could not record when API keys were last used (%s)", error)


class KeyRow(NamedTuple):
    id: int
    account_id: int
    idfulfilment_customer: int | None
    name: str
    subdomain: str
    timezone: str


class AccountIdRow(NamedTuple):
    id: int


_p = sa.bindparam
# Who is calling: a key that is not revoked, with its account. A key a staff user made
# works while that user is active (SPEC 6a).
FIND_KEY = Query(
    sa.select(
        api_keys.c.id,
        api_keys.c.account_id,
        api_keys.c.idfulfilment_customer,
        api_keys.c.name,
        accounts.c.subdomain,
        accounts.c.timezone,
    )
    .join(accounts, accounts.c.id == api_keys.c.account_id)
    .outerjoin(staff_users, staff_users.c.iduser == api_keys.c.created_by_iduser)
    .where(
        api_keys.c.key_hash == _p("key_hash"),
        api_keys.c.revoked_at.is_(None),
        sa.or_(api_keys.c.created_by_iduser.is_(None), staff_users.c.active.is_(True)),
    ),
    KeyRow,
)
SUBDOMAIN_TAKEN = Query(
    sa.select(accounts.c.id).where(accounts.c.subdomain == _p("subdomain")), AccountIdRow
)
RECORD_KEY_USED = (
    sa.update(api_keys)
    .where(
        api_keys.c.id == _p("id"),
        sa.or_(api_keys.c.last_used_at.is_(None), api_keys.c.last_used_at < _p("before")),
    )
    .values(last_used_at=_p("at"))
)


async def _find_key(connection: Connection, key_hash: str) -> KeyRow | None:
    return await connection.one(FIND_KEY, {"key_hash": key_hash})


async def _subdomain_taken(connection: Connection, subdomain: str) -> bool:
    return await connection.one(SUBDOMAIN_TAKEN, {"subdomain": subdomain}) is not None


def _authorization_and_host(request: Request) -> tuple[str | None, str | None]:
    """The first Authorization and Host headers, read straight from the request's list:
    the two an API request needs, without building every header's text."""
    authorization: bytes | None = None
    host: bytes | None = None
    for name, value in request.scope["headers"]:
        if name == b"authorization":
            authorization = value if authorization is None else authorization
        elif name == b"host":
            host = value if host is None else host
    return (
        None if authorization is None else authorization.decode("latin-1"),
        None if host is None else host.decode("latin-1"),
    )


async def authenticate(
    database: Database, request: Request, keys: KeyCache, usage: KeyUsage
) -> Principal:
    authorization, host = _authorization_and_host(request)
    key_hash = hash_api_key(api_key_from_header(authorization))
    version = keys.version()
    principal = keys.get(key_hash, version)
    if principal is None:
        row = await database.read(lambda c: _find_key(c, key_hash))
        if row is None:
            raise Unauthenticated("Unknown or revoked API key.")
        principal = Principal(
            row.id,
            key_hash[:24],
            row.name,
            row.account_id,
            row.subdomain,
            zone(row.timezone),
            row.idfulfilment_customer,
        )
        keys.store(key_hash, principal, version)
    requested = host_subdomain(host)
    if (
        requested is not None
        and requested != principal.subdomain
        and await database.read(lambda c: _subdomain_taken(c, requested))
    ):
        raise Unauthenticated("This API key does not belong to the account of this host.")
    usage.note(principal.api_key_id)
    return principal
