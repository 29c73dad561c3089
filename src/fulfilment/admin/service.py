"""The back office's rules: which account a request is for, staff logins (throttled, in
constant time, with the second factor), and what the customers pages read and change,
always through the customers service."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

import msgspec

from ..accounts.service import Account
from ..auth import Principal, zone
from ..customers import audit
from ..customers import queries as customer_queries
from ..customers import service as customers
from ..customers.schemas import (
    AuditEvent,
    Customer,
    CustomerCreate,
    CustomerListItem,
    CustomerUpdate,
)
from ..db import Connection, Database
from ..errors import CustomerNotFound
from ..fields import username_key
from ..identity.kinds import CUSTOMER, Person
from ..identity.login import has_second_factor
from ..portal.errors import NoPortalHere
from ..portal.service import find_portal_account
from ..staff import queries as staff_queries
from ..staff.service import to_user
from ..web.choices import Choices, read_choices
from ..wire import PAGE_SIZE
from . import errors, queries

log = logging.getLogger(__name__)


async def find_account(database: Database, named: str | None, host: str | None) -> Account:
    """The account of `/admin/{named}/`, or of the host's subdomain for `/admin/`: the
    portal's rule, so that a host of one account never shows another's back office."""
    try:
        return await find_portal_account(database, named, host)
    except NoPortalHere:
        raise errors.NoBackOfficeHere() from None


# -- the logged-in staff user -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StaffView:
    """The logged-in staff user, as the pages need it."""

    iduser: int
    username: str
    firstname: str | None
    lastname: str | None
    language: str
    admin: bool
    second_factor: bool
    requires_second_factor: bool
    requires_portal_second_factor: bool

    @property
    def display_name(self) -> str:
        name = " ".join(part for part in (self.firstname, self.lastname) if part)
        return name or self.username

    def principal(self, account: Account) -> Principal:
        """The customers service's caller: the account, acting as this staff user (the
        audit trail names the user)."""
        return Principal(
            api_key_id=0,
            api_key_tag="",
            api_key_name="",
            account_id=account.id,
            subdomain=account.subdomain,
            timezone=zone(account.timezone),
            idfulfilment_customer=None,
            staff_user=(self.iduser, self.username),
        )


async def staff_view(database: Database, account: Account, person: Person) -> StaffView:
    """The staff user of a session identity/ found good."""
    key = {"account_id": account.id, "id": person.id}

    async def load(connection: Connection) -> StaffView:
        row = await connection.one(staff_queries.GET_USER, key)
        assert row is not None
        found = await connection.one(queries.REQUIREMENTS, {"account_id": account.id})
        user = to_user(row, zone(account.timezone))
        return StaffView(
            iduser=user.iduser,
            username=user.username,
            firstname=user.firstname,
            lastname=user.lastname,
            language=user.language,
            admin=user.admin,
            second_factor=has_second_factor(person),
            requires_second_factor=found is not None and bool(found.require_staff_2fa),
            requires_portal_second_factor=found is not None and bool(found.require_portal_2fa),
        )

    return await database.read(load)


# -- customers ----------------------------------------------------------------------------


async def choices(database: Database, account: Account) -> Choices:
    return await database.read(lambda connection: read_choices(connection, account.id))


async def customer_page(
    database: Database, account: Account, user: StaffView, search: str | None, offset: int
) -> list[CustomerListItem]:
    return await customers.list_customers(database, user.principal(account), offset, search)


async def username_taken(
    database: Database, account: Account, username: str, customer_id: int | None
) -> bool:
    """Whether another customer of the account has this username (case-insensitively):
    checked beside the form's other fields, so that every error shows in one round."""
    key = {"account_id": account.id, "username_key": username_key(username)}
    row = await database.read(lambda c: c.one(customer_queries.USERNAME_OWNER, key))
    return row is not None and row.idfulfilment_customer != customer_id


async def delivery_customers(
    database: Database, account: Account, idhook: int, offset: int
) -> dict[int, tuple[int, str]]:
    """For a page of a hook's delivery log: the customer (number, name) each delivery was
    about, by delivery id; a test event is about none."""
    values = {"account_id": account.id, "id": idhook, "offset": offset, "limit": PAGE_SIZE}
    rows = await database.read(lambda c: c.all(queries.DELIVERY_DATA, values))
    found: dict[int, tuple[int, str]] = {}
    for row in rows:
        try:
            about = msgspec.json.decode(row.data)
        except msgspec.DecodeError:
            continue
        if isinstance(about, dict) and isinstance(about.get("idfulfilment_customer"), int):
            found[row.iddelivery] = (about["idfulfilment_customer"], str(about.get("name", "")))
    return found


async def customer_total(database: Database, account: Account) -> int:
    row = await database.read(lambda c: c.one(queries.CUSTOMER_TOTAL, {"account_id": account.id}))
    return int(row.customer_count) if row is not None else 0


async def customer(
    database: Database, account: Account, user: StaffView, customer_id: int | None
) -> Customer:
    return await customers.get_customer(database, user.principal(account), customer_id)


async def history(
    database: Database, account: Account, user: StaffView, customer_id: int
) -> list[AuditEvent]:
    """The customer's audit trail, newest first (its latest 100 events)."""
    principal = user.principal(account)
    events: list[AuditEvent] = []
    offset = 0
    while True:
        page = await audit.history(database, principal, customer_id, offset)
        events = (events + page)[-100:]
        if len(page) < 100:
            return list(reversed(events))
        offset += len(page)


async def create(
    database: Database, account: Account, user: StaffView, body: CustomerCreate
) -> Customer:
    return await customers.create_customer(database, user.principal(account), body)


async def update(
    database: Database, account: Account, user: StaffView, customer_id: int, body: CustomerUpdate
) -> Customer:
    return await customers.update_customer(database, user.principal(account), customer_id, body)


async def end_portal_sessions(database: Database, account: Account, customer_id: int) -> None:
    """End every portal session of the customer."""
    key = {"account_id": account.id, "id": customer_id}
    if not await database.write_statement(CUSTOMER.statements.new_credentials, key):
        raise CustomerNotFound(customer_id)


def generated_password() -> str:
    """A password for a customer, shown once: 16 characters of an unambiguous alphabet."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))
