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
from ..clock import utcnow
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
from ..encryption import SecretUnreadable, box_for
from ..errors import CustomerNotFound
from ..fields import PASSWORD_MAX, USERNAME_MAX, username_key
from ..observability import LOGIN_FAILURES
from ..passwords import verify_password
from ..portal.errors import NoPortalHere
from ..portal.service import find_portal_account
from ..staff import queries as staff_queries
from ..staff import service as staff
from ..staff.service import to_user
from ..threads import Busy
from ..web.choices import Choices, read_choices
from ..web.errors import LoginRefused, TooManyAttempts
from ..web.throttle import LoginThrottle
from ..wire import PAGE_SIZE
from . import errors, queries
from .session import StaffSession

log = logging.getLogger(__name__)


async def find_account(database: Database, named: str | None, host: str | None) -> Account:
    """The account of `/admin/{named}/`, or of the host's subdomain for `/admin/`: the
    portal's rule, so that a host of one account never shows another's back office."""
    try:
        return await find_portal_account(database, named, host)
    except NoPortalHere:
        raise errors.NoBackOfficeHere() from None


# -- logging in ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoggedIn:
    user: int
    version: int
    # "in", "code" (a second factor is set up) or "enrol" (the account requires one).
    stage: str


async def log_in(
    database: Database,
    throttle: LoginThrottle,
    account: Account,
    username: str,
    password: str,
    address: str,
) -> LoggedIn:
    """Check username and password, as the portal does: counted before anything is looked
    at, and every refusal but a throttled one costs one argon2id verification."""
    retry_after = await throttle.attempt(account.id, username, address)
    if retry_after is not None:
        LOGIN_FAILURES.inc()
        raise TooManyAttempts(retry_after, account)
    plausible = (
        0 < len(username) <= USERNAME_MAX
        and "\x00" not in username
        and len(password) <= PASSWORD_MAX
    )
    row = None
    if plausible:
        key = {"account_id": account.id, "username_key": username_key(username)}
        row = await database.read(lambda c: c.one(staff_queries.LOGIN, key))
    try:
        verified = await verify_password(
            row[2] if row is not None else None, password if plausible else ""
        )
    except Busy:
        LOGIN_FAILURES.inc()
        raise errors.Unavailable() from None
    if row is None or not verified or not row[1]:
        LOGIN_FAILURES.inc()
        raise LoginRefused()
    await throttle.succeeded(account.id, username, address)
    user_id, version, secret = row[0], row[3], row[4]
    if secret is not None:
        return LoggedIn(user_id, version, "code")
    required = await database.read(
        lambda c: c.one(staff_queries.REQUIRES_SECOND_FACTOR, {"account_id": account.id})
    )
    if required is not None and required[0]:
        return LoggedIn(user_id, version, "enrol")
    await record_login(database, account, user_id)
    return LoggedIn(user_id, version, "in")


async def record_login(database: Database, account: Account, user_id: int) -> None:
    await database.write_statement(
        staff_queries.SET_LAST_LOGIN, {"account_id": account.id, "id": user_id, "now": utcnow()}
    )


@dataclass(frozen=True, slots=True)
class StaffView:
    """The logged-in staff user, as the pages need it."""

    iduser: int
    username: str
    firstname: str | None
    lastname: str | None
    language: str
    admin: bool
    # Encrypted (encryption.py); opened only to check a code.
    totp_secret: str | None
    requires_second_factor: bool

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


async def session_user(database: Database, account: Account, session: StaffSession) -> StaffView:
    """The staff user of a session while it is still good; else SessionEnded."""
    if session.account != account.id or session.user is None:
        raise errors.SessionEnded()
    key = {"account_id": account.id, "id": session.user, "version": session.version}

    async def load(connection: Connection) -> StaffView | None:
        row = await connection.one(staff_queries.SESSION_USER, key)
        if row is None:
            return None
        required = await connection.one(
            staff_queries.REQUIRES_SECOND_FACTOR, {"account_id": account.id}
        )
        user = to_user(row, zone(account.timezone))
        return StaffView(
            iduser=user.iduser,
            username=user.username,
            firstname=user.firstname,
            lastname=user.lastname,
            language=user.language,
            admin=user.admin,
            totp_secret=row[11],
            requires_second_factor=bool(required[0]) if required is not None else False,
        )

    user = await database.read(load)
    if user is None:
        raise errors.SessionEnded()
    return user


async def pending_user(database: Database, account: Account, session: StaffSession) -> StaffView:
    """The user of a session that is between its password and its second factor."""
    if session.stage not in ("code", "enrol"):
        raise errors.SessionEnded()
    return await session_user(database, account, session)


async def check_code(
    database: Database,
    throttle: LoginThrottle,
    account: Account,
    user: StaffView,
    code: str,
    address: str,
) -> None:
    """The second factor: a TOTP code or a recovery code, counted like a login attempt."""
    retry_after = await throttle.attempt(account.id, user.username, address)
    if retry_after is not None:
        raise TooManyAttempts(retry_after, account)
    if user.totp_secret is None or len(code) > 64:
        LOGIN_FAILURES.inc()
        raise errors.WrongCode()
    try:
        secret: str | None = box_for(database).open(user.totp_secret)
    except SecretUnreadable as unreadable:
        # The staff user cannot fix this, the operator can: a recovery code still works.
        log.error("staff user %d's second factor: %s", user.iduser, unreadable)
        secret = None
    if not await staff.accept_code(database, account.id, user.iduser, secret, code):
        LOGIN_FAILURES.inc()
        raise errors.WrongCode() if secret is not None else errors.SecondFactorUnreadable()
    await throttle.succeeded(account.id, user.username, address)


async def log_out(database: Database, account: Account, session: StaffSession) -> None:
    if session.user is None or session.version is None:
        return
    values = {"account_id": account.id, "id": session.user, "version": session.version}
    await database.write_statement(queries.END_STAFF_SESSIONS, values)


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
    """End every portal session of the customer, through the customers service."""
    key = {"account_id": account.id, "id": customer_id}
    row = await database.read(lambda c: c.one(queries.CUSTOMER_VERSION, key))
    if row is None:
        raise CustomerNotFound(customer_id)
    # Sessions carry the version; a change since this read has ended them already.
    await customers.end_sessions(database, account.id, customer_id, row.credentials_version)


def generated_password() -> str:
    """A password for a customer, shown once: 16 characters of an unambiguous alphabet."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))
