"""The portal's rules: which account a request is for, and what a logged-in customer sees.
Logging in and everything else about credentials is identity/'s."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import msgspec

from ..accounts.service import Account, find_account
from ..auth import SUBDOMAIN, host_subdomain
from ..db import Connection, Database
from . import queries
from .errors import NoPortalHere

_profiles = msgspec.json.Decoder(list[int])


async def find_portal_account(database: Database, named: str | None, host: str | None) -> Account:
    """The account of `/portal/{named}/`, or of the host's subdomain for `/portal/`. A host
    that belongs to one account never shows another account's portal."""
    from_host = host_subdomain(host)
    wanted = named.lower() if named is not None else from_host
    if wanted is None or not SUBDOMAIN.match(wanted):
        raise NoPortalHere()

    async def look_up(connection: Connection) -> Account | None:
        account = await find_account(connection, wanted)
        if account is None or from_host is None or from_host == wanted:
            return account
        return None if await find_account(connection, from_host) is not None else account

    account = await database.read(look_up)
    if account is None:
        raise NoPortalHere()
    return account


@dataclass(frozen=True, slots=True)
class ShippingProfile:
    provider: str
    name: str


class _CustomerRow(NamedTuple):
    name: str
    username: str
    emailaddress: str | None
    language: str
    allowed_shipping_profiles: str
    warehouse: str | None
    template: str | None
    second_factor: bool


class _ProfileRow(NamedTuple):
    id: int
    provider: str
    name: str


@dataclass(frozen=True, slots=True)
class CustomerView:
    """What the warehouse set up for the customer, by name."""

    name: str
    username: str
    emailaddress: str | None
    language: str
    warehouse: str | None
    template: str | None
    default_template: str | None
    # Empty: every profile of the account is allowed.
    shipping_profiles: list[ShippingProfile]
    second_factor: bool


async def customer_view(database: Database, account: Account, customer_id: int) -> CustomerView:
    """The customer's page: its details and what the warehouse set up for it, by name."""
    key = {"account_id": account.id, "id": customer_id}

    async def load(connection: Connection) -> CustomerView:
        found = await connection.one(queries.CUSTOMER_PAGE, key)
        assert found is not None
        row = _CustomerRow(*found)
        default_template = None
        if row.template is None:
            default = await connection.one(queries.DEFAULT_TEMPLATE, {"account_id": account.id})
            default_template = str(default[0]) if default is not None else None
        allowed = _profiles.decode(row.allowed_shipping_profiles)
        profiles: list[ShippingProfile] = []
        if allowed:
            rows = await connection.all(queries.ACCOUNT_PROFILES, {"account_id": account.id})
            known = {
                profile.id: ShippingProfile(profile.provider, profile.name)
                for profile in (_ProfileRow(*found) for found in rows)
            }
            profiles = [known[profile_id] for profile_id in allowed if profile_id in known]
        return CustomerView(
            name=row.name,
            username=row.username,
            emailaddress=row.emailaddress,
            language=row.language,
            warehouse=row.warehouse,
            template=row.template,
            default_template=default_template,
            shipping_profiles=profiles,
            second_factor=row.second_factor,
        )

    return await database.read(load)
