"""Secrets the service must read back, at rest: hook secrets (it signs with them) and staff
users' second-factor keys (it checks codes with them), encrypted (AES-256-GCM) with a key
derived from the server's FULFILMENT_ENCRYPTION_KEY. Secrets stored with one of
FULFILMENT_ENCRYPTION_OLD_KEYS are still read; `rotate` stores them again with the current
key."""

from __future__ import annotations

import base64
import os
import secrets
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import sqlalchemy as sa

from .db import Connection, Database, Query
from .tables import accounts, hooks, staff_users

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1:"
_INFO = b"fulfilment hook secrets v1"


class SecretUnreadable(Exception):
    """A stored secret that none of this server's keys opens."""


# An in-memory database's secrets end with the process, and so may its key.
_IN_MEMORY_KEY = secrets.token_urlsafe(32).encode()


def key_file(database: Database) -> Path | None:
    """Where the server keeps its key on SQLite when FULFILMENT_ENCRYPTION_KEY is unset."""
    return Path(f"{database.path}-encryption.key") if database.path is not None else None


def _current_key(database: Database) -> bytes:
    configured = database.settings.encryption_key
    if configured is not None:
        return configured.encode()
    # Never on PostgreSQL: instances in other folders or on other machines would each make
    # a key of their own, and not read what the others stored.
    database.settings.require_encryption_key()
    path = key_file(database)
    if path is None:
        return _IN_MEMORY_KEY
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as file:
        file.write(secrets.token_urlsafe(32).encode())
    return path.read_bytes().strip()


def _cipher(key: bytes) -> AESGCM:
    # Imported when a secret is first sealed or opened: a process that has none to read
    # does without.
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(key))


class SecretBox:
    """Encrypts secrets with the server's current key, and decrypts them with whichever of
    its keys they were stored with."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._ciphers: list[AESGCM] = []

    def _keys(self) -> list[AESGCM]:
        """The current key's cipher first, then the old keys' in the order given."""
        if not self._ciphers:
            keys = [_current_key(self._database), *self._database.settings.old_encryption_keys]
            self._ciphers = [_cipher(key) for key in keys]
        return self._ciphers

    def seal(self, secret: str) -> str:
        nonce = os.urandom(12)
        sealed = self._keys()[0].encrypt(nonce, secret.encode(), None)
        return PREFIX + base64.b64encode(nonce + sealed).decode()

    def open(self, stored: str) -> str:
        return self._open(stored)[0]

    def _open(self, stored: str) -> tuple[str, bool]:
        """The secret, and whether it was stored with the current key."""
        from cryptography.exceptions import InvalidTag

        try:
            raw = base64.b64decode(stored.removeprefix(PREFIX), validate=True)
        except ValueError:
            raw = b""
        for position, cipher in enumerate(self._keys()):
            try:
                secret = cipher.decrypt(raw[:12], raw[12:], None).decode()
            except (InvalidTag, ValueError):
                continue
            return secret, position == 0
        raise SecretUnreadable(
            "a stored secret cannot be read with FULFILMENT_ENCRYPTION_KEY or any of "
            "FULFILMENT_ENCRYPTION_OLD_KEYS: the key it was stored with is not among them"
        )

    def resealed(self, stored: str) -> str | None:
        """`stored` encrypted again with the current key; None when it already is."""
        secret, current = self._open(stored)
        return None if current else self.seal(secret)


_boxes: weakref.WeakKeyDictionary[Database, SecretBox] = weakref.WeakKeyDictionary()


def box_for(database: Database) -> SecretBox:
    """The one SecretBox of `database`'s settings in this process."""
    box = _boxes.get(database)
    if box is None:
        box = _boxes[database] = SecretBox(database)
    return box


# -- rotation -----------------------------------------------------------------------------


class SecretRow(NamedTuple):
    id: int
    secret: str
    name: str
    subdomain: str


@dataclass(frozen=True)
class _Stored:
    """Where one kind of secret is kept, and how to name a row of it to an operator."""

    secret: sa.Column[Any]
    row: sa.Column[Any]
    name: sa.Column[Any]
    described: str  # formatted with the row's `name` and its account's `subdomain`

    def rows(self) -> Query[SecretRow]:
        return Query(
            sa.select(
                self.row.label("id"),
                self.secret.label("secret"),
                self.name.label("name"),
                accounts.c.subdomain,
            )
            .join(accounts, accounts.c.id == self.secret.table.c.account_id)
            .where(self.secret.is_not(None))
            .order_by(self.row),
            SecretRow,
        )

    def replace(self) -> sa.Update:
        # Only if no one changed it meanwhile: a secret set since is sealed with the
        # current key already.
        return (
            sa.update(self.secret.table)
            .where(self.row == sa.bindparam("id"), self.secret == sa.bindparam("old"))
            .values({self.secret.name: sa.bindparam("new")})
        )


STORED: Sequence[_Stored] = (
    _Stored(
        hooks.c.secret, hooks.c.idhook, hooks.c.name, "webhook {name!r} of account {subdomain}"
    ),
    _Stored(
        staff_users.c.totp_secret,
        staff_users.c.iduser,
        staff_users.c.username,
        "the second factor of staff user {name!r} of account {subdomain}",
    ),
)


@dataclass
class Rotation:
    """What `rotate` did: secrets stored again, already current, and those no key opens."""

    resealed: int = 0
    current: int = 0
    unreadable: list[str] = field(default_factory=list)


async def rotate(box: SecretBox, connection: Connection) -> Rotation:
    """Store every secret that an old key opens again with the current key."""
    done = Rotation()
    for stored in STORED:
        for row in await connection.all(stored.rows(), {}):
            try:
                new = box.resealed(row.secret)
            except SecretUnreadable:
                done.unreadable.append(
                    stored.described.format(name=row.name, subdomain=row.subdomain)
                )
                continue
            if new is None:
                done.current += 1
                continue
            await connection.execute(
                stored.replace(), {"id": row.id, "old": row.secret, "new": new}
            )
            done.resealed += 1
    return done
