"""The demo account `make run` sets up: reference data, a staff user, a few customers in
both languages, one of them with a portal login. Made once; every later run reuses it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import msgspec

from .accounts import service as accounts
from .admin.service import generated_password
from .auth import Principal, hash_api_key
from .customers import service as customers
from .customers.schemas import CustomerCreate
from .db import Connection, Database
from .passwords import hash_password_sync
from .reference import service as reference
from .staff import service as staff

DEMO_SUBDOMAIN = "demo"
STAFF_USERNAME = "demo"
PORTAL_USERNAME = "tuliptrading"
# Each has a username, by which a later run finds it again.
DEMO_CUSTOMERS = (
    CustomerCreate(
        name="Tulip Trading Ltd",
        username=PORTAL_USERNAME,
        emailaddress="orders@tuliptrading.example",
        language="en",
    ),
    CustomerCreate(
        name="Bakkerij De Gouden Korst",
        username="goudenkorst",
        emailaddress="info@goudenkorst.example",
        language="nl",
    ),
    CustomerCreate(name="Noordzee Visgroothandel", username="noordzeevis", language="nl"),
    CustomerCreate(
        name="Windmill Bikes",
        username="windmillbikes",
        emailaddress="hello@windmillbikes.example",
        language="en",
    ),
)


@dataclass(frozen=True, slots=True)
class Demo:
    """What one run did. A password is set only on the run that made its login."""

    account_name: str
    account_made: bool
    api_key: str
    staff_password: str | None
    portal_password: str | None
    customers_made: int


@dataclass(frozen=True, slots=True)
class _Base:
    account: accounts.Account
    account_made: bool
    key_id: int
    key: str
    staff_password: str | None


async def _account_and_key(connection: Connection) -> _Base:
    """The account with its reference data and staff user (each made when missing), and a
    new API key made by that user."""
    account = await accounts.find_account(connection, DEMO_SUBDOMAIN)
    made = account is None
    if account is None:
        account = await accounts.create_account(connection, "Demo Warehousing", DEMO_SUBDOMAIN)
        await reference.create_warehouse(connection, account.id, "Main warehouse")
        await reference.create_template(
            connection, account.id, "Default packing slip", default=True
        )
        await reference.create_shipping_provider(
            connection, account.id, "PostNL", "PostNL", ["Standard parcel", "Signature on delivery"]
        )
    users = {user.username: user for user in await staff.all_users(connection, account)}
    password = None
    user = users.get(STAFF_USERNAME)
    if user is None:
        password = generated_password()
        new = staff.NewUser(
            username=STAFF_USERNAME,
            emailaddress="demo@demo-warehousing.example",
            firstname="Demo",
            lastname="Staff",
            language="en",
            admin=True,
        )
        user = await staff.create_user(
            connection, account, new.checked(), hash_password_sync(password)
        )
    key_id, key = await staff.create_api_key_by(
        connection, account, (user.iduser, user.username), "demo"
    )
    return _Base(account, made, key_id, key, password)


async def _missing_customers(database: Database, base: _Base) -> tuple[int, str | None]:
    """Make each demo customer whose username no customer has; the portal login's password
    when that one was made now."""
    account = base.account
    principal = Principal(
        base.key_id,
        hash_api_key(base.key)[:24],
        "demo",
        account.id,
        account.subdomain,
        ZoneInfo(account.timezone),
        None,
    )
    # The portal's customer is set up with the account's warehouse, template and the
    # first shipping profile, so that its page shows each by name.
    [warehouse, *_] = await reference.list_warehouses(database, principal, 0)
    [template, *_] = await reference.list_templates(database, principal, 0)
    [provider, *_] = await reference.list_shipping_providers(database, principal, 0)
    made = 0
    portal_password = None
    for body in DEMO_CUSTOMERS:
        assert body.username is not None
        found = await customers.list_customers(database, principal, 0, body.username)
        if any(customer.username == body.username for customer in found):
            continue
        if body.username == PORTAL_USERNAME:
            portal_password = generated_password()
            body = msgspec.structs.replace(
                body,
                can_login=True,
                password=portal_password,
                idtemplate=template.idtemplate,
                preferred_idwarehouse=warehouse.idwarehouse,
                allowed_shipping_profiles=[provider.profiles[0].idshippingprovider_profile],
            )
        await customers.create_customer(database, principal, body)
        made += 1
    return made, portal_password


def set_up(database: Database) -> Demo:
    """Make what is missing of the demo account, and a new API key for this run."""
    base = database.write_sync(_account_and_key)
    made, portal_password = asyncio.run(_missing_customers(database, base))
    return Demo(
        account_name=base.account.name,
        account_made=base.account_made,
        api_key=base.key,
        staff_password=base.staff_password,
        portal_password=portal_password,
        customers_made=made,
    )
