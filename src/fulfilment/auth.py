"""Who is calling: HTTP Basic with an API key as the username, and the account's host rule."""

from __future__ import annotations

import binascii
import hashlib
import re
from base64 import b64decode
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from starlette.requests import Request

from .db import Connection
from .errors import Forbidden, Unauthenticated
from .tables import accounts, api_keys

SUBDOMAIN = re.compile(r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")


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

    def require_full_access(self) -> None:
        if self.idfulfilment_customer is not None:
            raise Forbidden("This API key belongs to a fulfilment customer and may not use this.")


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


FIND_KEY = (
    sa.select(
        api_keys.c.id,
        api_keys.c.account_id,
        api_keys.c.idfulfilment_customer,
        api_keys.c.name,
        accounts.c.subdomain,
        accounts.c.timezone,
    )
    .join(accounts, accounts.c.id == api_keys.c.account_id)
    .where(api_keys.c.key_hash == sa.bindparam("key_hash"), api_keys.c.revoked_at.is_(None))
)
SUBDOMAIN_TAKEN = sa.select(accounts.c.id).where(accounts.c.subdomain == sa.bindparam("subdomain"))


def api_key_from_header(header: str | None) -> str:
    """The username of an HTTP Basic `Authorization` header; the password is ignored."""
    if not header:
        raise Unauthenticated("Authenticate with HTTP Basic: your API key as the username.")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise Unauthenticated("Authenticate with HTTP Basic: your API key as the username.")
    try:
        decoded = b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
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


def authenticate(connection: Connection, request: Request) -> Principal:
    key = api_key_from_header(request.headers.get("authorization"))
    key_hash = hash_api_key(key)
    row = connection.one(FIND_KEY, {"key_hash": key_hash})
    if row is None:
        raise Unauthenticated("Unknown or revoked API key.")
    key_id, account_id, idfulfilment_customer, key_name, subdomain, timezone = row
    requested = host_subdomain(request.headers.get("host"))
    if (
        requested is not None
        and requested != subdomain
        and connection.one(SUBDOMAIN_TAKEN, {"subdomain": requested}) is not None
    ):
        raise Unauthenticated("This API key does not belong to the account of this host.")
    return Principal(
        key_id,
        key_hash[:24],
        key_name,
        account_id,
        subdomain,
        zone(timezone),
        idfulfilment_customer,
    )
