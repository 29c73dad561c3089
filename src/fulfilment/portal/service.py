"""The portal's rules: which account a request is for, logging in (throttled, in constant
time), what a logged-in customer sees, changing its password and logging out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..accounts.service import Account, find_account
from ..auth import SUBDOMAIN, host_subdomain, zone
from ..customers import service as customers
from ..customers.rows import to_customer
from ..customers.schemas import Customer
from ..db import Connection, Database, Row
from ..fields import PASSWORD_MAX, PASSWORD_MIN, USERNAME_MAX, username_key
from ..observability import LOGIN_FAILURES
from ..passwords import hash_password, verify_password
from ..threads import Busy
from ..web.choices import Choices, read_choices
from ..web.sessions import Session
from ..web.throttle import LoginThrottle
from . import queries
from .errors import (
    FieldErrors,
    LoginRefused,
    NoPortalHere,
    PasswordsDiffer,
    PasswordTooLong,
    PasswordTooShort,
    PasswordUnusable,
    PortalError,
    SessionEnded,
    TooManyAttempts,
    Unavailable,
    WrongCurrentPassword,
)

# -- which account ------------------------------------------------------------------------


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


# -- logging in ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoggedIn:
    customer: int
    version: int


async def log_in(
    database: Database,
    throttle: LoginThrottle,
    account: Account,
    username: str,
    password: str,
    address: str,
) -> LoggedIn:
    """Check the credentials. The attempt is counted before anything is looked at, so no
    number of attempts at once gets more verifications than the throttle allows. Every
    refusal but a throttled one costs one full argon2id verification."""
    retry_after = await throttle.attempt(account.id, username, address)
    if retry_after is not None:
        LOGIN_FAILURES.inc()
        raise TooManyAttempts(retry_after, account)
    # A username no customer can have is not looked up (PostgreSQL refuses a NUL in text),
    # but answered like any other wrong one, after the same verification.
    plausible = (
        0 < len(username) <= USERNAME_MAX
        and "\x00" not in username
        and len(password) <= PASSWORD_MAX
    )
    row: Row | None = None
    if plausible:
        key = {"account_id": account.id, "username_key": username_key(username)}
        row = await database.read(lambda c: c.one(queries.LOGIN, key))
    try:
        verified = await verify_password(
            row[2] if row is not None else None, password if plausible else ""
        )
    except Busy:
        LOGIN_FAILURES.inc()
        raise Unavailable() from None
    if row is None or not verified or not row[1]:
        LOGIN_FAILURES.inc()
        raise LoginRefused()
    await throttle.succeeded(account.id, username, address)
    customer_id, version, stored_username = row[0], row[3], row[4]

    await customers.record_login(database, account.id, customer_id, stored_username)
    return LoggedIn(customer_id, version)


# -- the customer's page ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerView:
    """The logged-in customer: what its forms need, and every field of it as the API
    answers it (the page shows fields.PORTAL_FIELDS), with what its references name."""

    name: str
    username: str
    emailaddress: str | None
    language: str
    password_hash: str
    fields: Customer
    choices: Choices


def _session_key(account: Account, session: Session) -> dict[str, Any]:
    return {"account_id": account.id, "id": session.customer, "version": session.version}


async def current_customer(database: Database, account: Account, session: Session) -> CustomerView:
    """The logged-in customer, while its session is still good; else SessionEnded."""
    if session.account != account.id or session.customer is None:
        raise SessionEnded()

    async def load(connection: Connection) -> CustomerView | None:
        row = await connection.one(queries.SESSION_CUSTOMER, _session_key(account, session))
        if row is None:
            return None
        fields = to_customer(row[1:], zone(account.timezone))
        assert fields.username is not None  # a customer who may log in has one
        return CustomerView(
            name=fields.name,
            username=fields.username,
            emailaddress=fields.emailaddress,
            language=fields.language,
            password_hash=row[0],
            fields=fields,
            choices=await read_choices(connection, account.id),
        )

    customer = await database.read(load)
    if customer is None:
        raise SessionEnded()
    return customer


def check_new_password(new_password: str, again: str) -> None:
    """Refuse a new password that differs from its repeat or breaks the rules."""
    if new_password != again:
        raise PasswordsDiffer()
    if len(new_password) < PASSWORD_MIN:
        raise PasswordTooShort(min=PASSWORD_MIN)
    if len(new_password) > PASSWORD_MAX:
        raise PasswordTooLong(max=PASSWORD_MAX)
    if "\x00" in new_password:
        raise PasswordUnusable()
    try:
        new_password.encode("utf-8")
    except UnicodeEncodeError:
        raise PasswordUnusable() from None


async def change_password(
    database: Database,
    throttle: LoginThrottle,
    account: Account,
    session: Session,
    current_password: str,
    new_password: str,
    again: str,
    address: str,
) -> int:
    """Set a new password after checking the current one; returns the new credentials
    version, which ends every other session of the customer."""
    customer = await current_customer(database, account, session)
    # Counted before the check, like a login: a left-open session is no way to guess the
    # password.
    retry_after = await throttle.attempt(account.id, customer.username, address)
    if retry_after is not None:
        raise TooManyAttempts(retry_after, account)
    try:
        current_ok = len(current_password) <= PASSWORD_MAX and await verify_password(
            customer.password_hash, current_password
        )
    except Busy:
        raise Unavailable() from None
    # Every field's error in one answer: the current password and the new one alike.
    problems: dict[str, PortalError] = {}
    if current_ok:
        await throttle.succeeded(account.id, customer.username, address)
    else:
        LOGIN_FAILURES.inc()
        problems["current_password"] = WrongCurrentPassword()
    try:
        check_new_password(new_password, again)
    except PasswordsDiffer as differ:
        problems["new_password_again"] = differ
    except PortalError as refused:
        problems["new_password"] = refused
    if problems:
        raise FieldErrors(problems)
    password_hash = await hash_password(new_password)
    assert session.customer is not None
    assert session.version is not None
    if not await customers.set_own_password(
        database, account.id, session.customer, session.version, customer.username, password_hash
    ):
        raise SessionEnded()
    assert session.version is not None
    return session.version + 1


async def log_out(database: Database, account: Account, session: Session) -> None:
    """End every session of the customer: a copied cookie stops working too."""
    if session.account != account.id or session.customer is None:
        return
    assert session.version is not None
    await customers.end_sessions(database, account.id, session.customer, session.version)
