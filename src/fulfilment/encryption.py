"""Secrets the service must read back, at rest: hook secrets (it signs with them) and staff
users' second-factor keys (it checks codes with them), encrypted (AES-256-GCM) with a key
derived from the server's FULFILMENT_ENCRYPTION_KEY."""

from __future__ import annotations

import base64
import os
import secrets
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from .db import Database

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1:"
_INFO = b"fulfilment hook secrets v1"


class SecretUnreadable(Exception):
    """A stored secret that this server's key does not open (the key was changed)."""


def key_file(database: Database) -> Path:
    """Where the server keeps its key when FULFILMENT_ENCRYPTION_KEY is unset."""
    if database.path is not None:
        return Path(f"{database.path}-encryption.key")
    return Path("var") / "encryption.key"


def _server_secret(database: Database) -> bytes:
    configured = database.settings.encryption_key
    if configured is not None:
        return configured.encode()
    path = key_file(database)
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as file:
        file.write(secrets.token_urlsafe(32).encode())
    return path.read_bytes().strip()


class SecretBox:
    """Encrypts and decrypts secrets with the server's key."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._aead: AESGCM | None = None

    def _cipher(self) -> AESGCM:
        if self._aead is None:
            # Imported when a secret is first sealed or opened: a process that has none to
            # read does without.
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
            from cryptography.hazmat.primitives.kdf.hkdf import HKDF

            key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
                _server_secret(self._database)
            )
            self._aead = AESGCM(key)
        return self._aead

    def seal(self, secret: str) -> str:
        nonce = os.urandom(12)
        sealed = self._cipher().encrypt(nonce, secret.encode(), None)
        return PREFIX + base64.b64encode(nonce + sealed).decode()

    def open(self, stored: str) -> str:
        from cryptography.exceptions import InvalidTag

        try:
            raw = base64.b64decode(stored.removeprefix(PREFIX))
            return self._cipher().decrypt(raw[:12], raw[12:], None).decode()
        except (InvalidTag, ValueError):
            raise SecretUnreadable(
                "a stored secret cannot be read with this server's FULFILMENT_ENCRYPTION_KEY"
            ) from None


_boxes: weakref.WeakKeyDictionary[Database, SecretBox] = weakref.WeakKeyDictionary()


def box_for(database: Database) -> SecretBox:
    """The one SecretBox of `database`'s settings in this process."""
    box = _boxes.get(database)
    if box is None:
        box = _boxes[database] = SecretBox(database)
    return box
