"""The portal's rules: which account a request is for, and what a logged-in customer sees.
Logging in and everything else about credentials is identity/'s."""

from __future__ import annotations

from dataclasses import dataclass

from ..accounts.service import Account, find_account
from ..auth import SUBDOMAIN, host_subdomain, zone
from ..customers import queries as customer_queries
from ..customers.rows import to_customer
from ..customers.schemas import Customer
from ..db import Connection, Database
from ..web.choices import Choices, read_choices
from . import queries
from .errors import NoPortalHere


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
class CustomerView:
    """The logged-in customer: what its forms need, and every field of it as the API
    answers it (the page shows fields.PORTAL_FIELDS), with what its references name."""

    name: str
    username: str
    emailaddress: str | None
    language: str
    fields: Customer
    choices: Choices
    second_factor: bool


async def customer_view(database: Database, account: Account, customer_id: int) -> CustomerView:
    """The customer's page, once identity/ has checked its session: its details and what
    the warehouse set up for it, by name."""
    key = {"account_id": account.id, "id": customer_id}

    async def load(connection: Connection) -> CustomerView:
        row = await connection.one(customer_queries.GET_ONE, key)
        factor = await connection.one(queries.SECOND_FACTOR, key)
        assert row is not None
        assert factor is not None
        fields = to_customer(row, zone(account.timezone))
        assert fields.username is not None  # a customer who may log in has one
        return CustomerView(
            name=fields.name,
            username=fields.username,
            emailaddress=fields.emailaddress,
            language=fields.language,
            fields=fields,
            choices=await read_choices(connection, account.id),
            second_factor=bool(factor.second_factor),
        )

    return await database.read(load)
