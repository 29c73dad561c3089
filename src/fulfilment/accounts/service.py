"""Creating accounts and API keys; what the command line does for operators."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..auth import KEYS_CHANGED, SUBDOMAIN, hash_api_key
from ..db import Connection, as_datetime, utcnow
from ..errors import InvalidInput, NotFound
from .queries import (
    CUSTOMER_IN_ACCOUNT,
    FIND_ACCOUNT,
    INSERT_ACCOUNT,
    INSERT_KEY,
    LIST_KEYS,
    REVOKE_KEY,
    REVOKE_KEY_BY_HASH,
)

KEY_PREFIX = "fk_"


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    subdomain: str
    name: str
    timezone: str


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """An API key as listings show it: never the key itself."""

    id: int
    name: str
    prefix: str
    idfulfilment_customer: int | None
    created_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


async def find_account(connection: Connection, subdomain: str) -> Account | None:
    """The account with `subdomain`, or None."""
    row = await connection.one(FIND_ACCOUNT, {"subdomain": subdomain.lower()})
    return Account(*row) if row is not None else None


async def get_account(connection: Connection, subdomain: str) -> Account:
    """The account with `subdomain`; NotFound when there is none."""
    account = await find_account(connection, subdomain)
    if account is None:
        raise NotFound(f"No account with subdomain '{subdomain}'.")
    return account


async def create_account(
    connection: Connection, name: str, subdomain: str, timezone: str = "Europe/Amsterdam"
) -> Account:
    """Create an account after checking its subdomain, time zone and name."""
    subdomain = subdomain.lower()
    if not SUBDOMAIN.match(subdomain):
        raise InvalidInput(
            "subdomain must be 1-63 lowercase letters, digits or hyphens, starting with a letter.",
        )
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"'{timezone}' is not a known time zone.") from None
    name = name.strip()
    if not name or len(name) > 255:
        raise InvalidInput("name must be 1-255 characters.")
    if await find_account(connection, subdomain) is not None:
        raise InvalidInput(f"An account with subdomain '{subdomain}' exists already.")
    row = await connection.one(
        INSERT_ACCOUNT,
        {"subdomain": subdomain, "name": name, "timezone": timezone, "created_at": utcnow()},
    )
    assert row is not None
    return Account(row[0], subdomain, name, timezone)


def new_api_key() -> str:
    """256 random bits, URL-safe, with a prefix that makes a leaked key easy to recognise."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


async def create_api_key(
    connection: Connection,
    account: Account,
    name: str = "",
    idfulfilment_customer: int | None = None,
    created_by: int | None = None,
) -> tuple[int, str]:
    """Store a new key's hash and return (id, key): the only time the key is seen."""
    if (
        idfulfilment_customer is not None
        and await connection.one(
            CUSTOMER_IN_ACCOUNT, {"account_id": account.id, "id": idfulfilment_customer}
        )
        is None
    ):
        raise InvalidInput(
            f"Fulfilment customer {idfulfilment_customer} is not in account '{account.subdomain}'.",
        )
    key = new_api_key()
    row = await connection.one(
        INSERT_KEY,
        {
            "account_id": account.id,
            "idfulfilment_customer": idfulfilment_customer,
            "name": name.strip()[:255],
            "key_hash": hash_api_key(key),
            "key_prefix": key[:10],
            "created_at": utcnow(),
            "created_by_iduser": created_by,
        },
    )
    assert row is not None
    return row[0], key


async def revoke_api_key(connection: Connection, account: Account, key_id: int) -> None:
    """Revoke one of the account's active keys by id; NotFound when there is none."""
    if (
        await connection.execute(
            REVOKE_KEY, {"account_id": account.id, "id": key_id, "revoked_at": utcnow()}
        )
        == 0
    ):
        raise NotFound(f"No active API key {key_id} in account '{account.subdomain}'.")
    await connection.notify(KEYS_CHANGED)


async def revoke_api_key_by_value(connection: Connection, key: str) -> None:
    """Revoke the active key that matches `key`; NotFound when none does."""
    if (
        await connection.execute(
            REVOKE_KEY_BY_HASH, {"key_hash": hash_api_key(key), "revoked_at": utcnow()}
        )
        == 0
    ):
        raise NotFound("No active API key matches that key.")
    await connection.notify(KEYS_CHANGED)


async def list_api_keys(connection: Connection, account: Account) -> list[ApiKeyInfo]:
    """The account's keys, revoked ones included (never the keys themselves)."""
    return [
        ApiKeyInfo(row[0], row[1], row[2], row[3], *(as_datetime(value) for value in row[4:7]))
        for row in await connection.all(LIST_KEYS, {"account_id": account.id})
    ]
