"""Creating accounts and API keys; what the command line does for operators."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from ..actors import Actor
from ..auth import KEYS_CHANGED, SUBDOMAIN, hash_api_key
from ..clock import as_datetime, utcnow
from ..db import Connection, Database
from ..errors import InvalidInput, NotFound
from ..fields import check_display_name
from ..wire import PAGE_SIZE, format_datetime
from . import audit
from .queries import (
    CUSTOMER_IN_ACCOUNT,
    FIND_ACCOUNT,
    INSERT_ACCOUNT,
    INSERT_KEY,
    KEY_LISTED,
    KEY_PAGE,
    LIST_KEYS,
    REVOKE_KEY,
    REVOKE_KEY_BY_HASH,
    SETTINGS_FOR_UPDATE,
    UPDATE_SETTINGS,
    KeyListingRow,
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
    return Account(row.id, row.subdomain, row.name, row.timezone) if row is not None else None


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
    name = check_name(name)
    if await find_account(connection, subdomain) is not None:
        raise InvalidInput(f"An account with subdomain '{subdomain}' exists already.")
    row = await connection.one(
        INSERT_ACCOUNT,
        {"subdomain": subdomain, "name": name, "timezone": timezone, "created_at": utcnow()},
    )
    assert row is not None
    return Account(row.id, subdomain, name, timezone)


def new_api_key() -> str:
    """256 random bits, URL-safe, with a prefix that makes a leaked key easy to recognise."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


async def create_api_key(
    connection: Connection,
    account: Account,
    name: str = "",
    idfulfilment_customer: int | None = None,
    created_by: int | None = None,
    actor: Actor = audit.COMMAND_LINE,
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
            f"idfulfilment_customer {idfulfilment_customer} is not a fulfilment customer of "
            f"account '{account.subdomain}'.",
        )
    key = new_api_key()
    name = name.strip()[:255]
    row = await connection.one(
        INSERT_KEY,
        {
            "account_id": account.id,
            "idfulfilment_customer": idfulfilment_customer,
            "name": name,
            "key_hash": hash_api_key(key),
            "key_prefix": key[:10],
            "created_at": utcnow(),
            "created_by_iduser": created_by,
        },
    )
    assert row is not None
    changes = {"name": name, "idfulfilment_customer": idfulfilment_customer}
    await audit.record(connection, account.id, actor, "api_key", row.id, name, "create", changes)
    return row.id, key


async def revoke_api_key(
    connection: Connection, account: Account, key_id: int, actor: Actor = audit.COMMAND_LINE
) -> None:
    """Revoke one of the account's active keys by id; NotFound when there is none."""
    row = await connection.one(
        REVOKE_KEY, {"account_id": account.id, "id": key_id, "revoked_at": utcnow()}
    )
    if row is None:
        raise NotFound(f"No active API key {key_id} in account '{account.subdomain}'.")
    await audit.record(connection, account.id, actor, "api_key", row.id, row.name, "revoke")
    await connection.notify(KEYS_CHANGED)


async def revoke_api_key_by_value(connection: Connection, key: str) -> None:
    """Revoke the active key that matches `key`; NotFound when none does."""
    row = await connection.one(
        REVOKE_KEY_BY_HASH, {"key_hash": hash_api_key(key), "revoked_at": utcnow()}
    )
    if row is None:
        raise NotFound("No active API key matches that key.")
    await audit.record(
        connection, row.account_id, audit.COMMAND_LINE, "api_key", row.id, row.name, "revoke"
    )
    await connection.notify(KEYS_CHANGED)


async def list_api_keys(connection: Connection, account: Account) -> list[ApiKeyInfo]:
    """The account's keys, revoked ones included (never the keys themselves)."""
    return [
        ApiKeyInfo(
            row.id,
            row.name,
            row.key_prefix,
            row.idfulfilment_customer,
            as_datetime(row.created_at),
            as_datetime(row.revoked_at),
            as_datetime(row.last_used_at),
        )
        for row in await connection.all(LIST_KEYS, {"account_id": account.id})
    ]


@dataclass(frozen=True, slots=True)
class KeyListing:
    """An API key as the back office lists it, times in the account's zone."""

    id: int
    name: str
    prefix: str
    idfulfilment_customer: int | None
    customer_name: str | None
    created_by: str | None
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


def _listing(row: KeyListingRow, zone: ZoneInfo) -> KeyListing:
    return KeyListing(
        id=row.id,
        name=row.name,
        prefix=row.key_prefix,
        idfulfilment_customer=row.idfulfilment_customer,
        customer_name=row.customer_name,
        created_by=row.created_by,
        created_at=format_datetime(row.created_at, zone) or "",
        last_used_at=format_datetime(row.last_used_at, zone),
        revoked_at=format_datetime(row.revoked_at, zone),
    )


async def key_page(database: Database, account: Account, offset: int) -> list[KeyListing]:
    """A page of the account's keys: active ones first, newest first."""
    values = {"account_id": account.id, "offset": offset, "limit": PAGE_SIZE}
    rows = await database.read(lambda c: c.all(KEY_PAGE, values))
    zone = ZoneInfo(account.timezone)
    return [_listing(row, zone) for row in rows]


async def listed_key(database: Database, account: Account, key_id: int) -> KeyListing:
    """One of the account's keys, as the listing shows it."""
    values = {"account_id": account.id, "id": key_id}
    row = await database.read(lambda c: c.one(KEY_LISTED, values))
    if row is None:
        raise NotFound(f"There is no API key {key_id}.")
    return _listing(row, ZoneInfo(account.timezone))


# -- the account's settings ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountSettings:
    """What an administrator can change of the account. Fields left None keep their value."""

    name: str | None = None
    timezone: str | None = None
    require_second_factor: bool | None = None
    # The same for the portal's customers.
    require_portal_second_factor: bool | None = None


def check_timezone(timezone: str) -> str:
    if timezone not in known_timezones():
        raise InvalidInput(f"timezone '{timezone[:64]}' is not a known time zone.")
    return timezone


def check_name(name: str) -> str:
    """The account's name, trimmed: plain text, since every mail of the account carries it
    in its From and Subject headers."""
    try:
        return check_display_name(name)
    except ValueError as problem:
        raise InvalidInput(f"name {problem}.") from None


@lru_cache(maxsize=1)
def known_timezones() -> tuple[str, ...]:
    """The IANA zones this machine knows, sorted."""
    return tuple(sorted(available_timezones()))


async def change_settings(
    connection: Connection, account: Account, changed: AccountSettings, actor: Actor
) -> dict[str, Any]:
    """Apply the settings that were given; the audit trail records what changed (returned)."""
    row = await connection.one(SETTINGS_FOR_UPDATE, {"account_id": account.id})
    if row is None:
        raise NotFound(f"No account '{account.subdomain}'.")
    before: dict[str, Any] = {
        "name": row.name,
        "timezone": row.timezone,
        "require_second_factor": bool(row.require_staff_2fa),
        "require_portal_second_factor": bool(row.require_portal_2fa),
    }
    after = dict(before)
    if changed.name is not None:
        after["name"] = check_name(changed.name)
    if changed.timezone is not None:
        after["timezone"] = check_timezone(changed.timezone)
    if changed.require_second_factor is not None:
        after["require_second_factor"] = changed.require_second_factor
    if changed.require_portal_second_factor is not None:
        after["require_portal_second_factor"] = changed.require_portal_second_factor
    differences = {
        field: {"from": before[field], "to": value}
        for field, value in after.items()
        if before[field] != value
    }
    if not differences:
        return differences
    await connection.execute(
        UPDATE_SETTINGS,
        {
            "account_id": account.id,
            "name": after["name"],
            "timezone": after["timezone"],
            "required": after["require_second_factor"],
            "portal_required": after["require_portal_second_factor"],
        },
    )
    await audit.record(
        connection, account.id, actor, "settings", None, after["name"], "update", differences
    )
    if "timezone" in differences:
        # API keys carry their account's zone in every worker's key cache.
        await connection.notify(KEYS_CHANGED)
    return differences
