"""The portal's rules: which account a request is for, logging in (throttled, in constant
time), what a logged-in customer sees, changing its password and logging out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

import msgspec

from ..accounts.service import Account, find_account
from ..auth import SUBDOMAIN, host_subdomain
from ..customers import audit
from ..customers import queries as customer_queries
from ..customers.schemas import Password
from ..db import Connection, Database, Row, utcnow
from ..fields import username_key
from ..observability import LOGIN_FAILURES
from ..passwords import hash_password, verify_password
from . import queries
from .errors import (
    LoginRefused,
    NoPortalHere,
    PasswordsDiffer,
    PasswordTooLong,
    PasswordTooShort,
    PasswordUnusable,
    SessionEnded,
    TooManyAttempts,
    WrongCurrentPassword,
)
from .sessions import Session
from .throttle import LoginThrottle

# The API's length rules for passwords, read from the one place that states them.
_password_rule: msgspec.Meta = get_args(Password)[1]
PASSWORD_MIN: int = _password_rule.min_length or 0
PASSWORD_MAX: int = _password_rule.max_length or 0
USERNAME_MAX = 100
_profiles = msgspec.json.Decoder(list[int])


# -- which account ------------------------------------------------------------------------


def find_portal_account(database: Database, named: str | None, host: str | None) -> Account:
    """The account of `/portal/{named}/`, or of the host's subdomain for `/portal/`. A host
    that belongs to one account never shows another account's portal."""
    from_host = host_subdomain(host)
    wanted = named.lower() if named is not None else from_host
    if wanted is None or not SUBDOMAIN.match(wanted):
        raise NoPortalHere()

    def look_up(connection: Any) -> Account | None:
        account = find_account(connection, wanted)
        if account is None or from_host is None or from_host == wanted:
            return account
        return None if find_account(connection, from_host) is not None else account

    account = database.read(look_up)
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
    """Check the credentials. Every refusal costs one full argon2id verification."""
    retry_after = throttle.retry_after(account.id, username, address)
    if retry_after is not None:
        LOGIN_FAILURES.inc()
        raise TooManyAttempts(retry_after, account)
    plausible = 0 < len(username) <= USERNAME_MAX and len(password) <= PASSWORD_MAX
    row: Row | None = None
    if plausible:
        row = database.read(
            lambda c: c.one(
                queries.LOGIN, {"account_id": account.id, "username_key": username_key(username)}
            )
        )
    verified = await verify_password(
        row[2] if row is not None else None, password if plausible else ""
    )
    if row is None or not verified or not row[1]:
        LOGIN_FAILURES.inc()
        throttle.failed(account.id, username, address)
        raise LoginRefused()
    throttle.succeeded(account.id, username)
    customer_id, version, stored_username = row[0], row[3], row[4]

    def record_login(connection: Connection) -> None:
        connection.execute(
            customer_queries.SET_LAST_LOGIN,
            {"account_id": account.id, "id": customer_id, "last_login_at": utcnow()},
        )
        audit.record(
            connection,
            account.id,
            customer_id,
            "login",
            audit.Actor.portal(customer_id, stored_username),
            {},
        )

    await database.write(record_login)
    return LoggedIn(customer_id, version)


# -- the customer's page ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShippingProfile:
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
    password_hash: str


def _session_key(account: Account, session: Session) -> dict[str, Any]:
    return {"account_id": account.id, "id": session.customer, "version": session.version}


def current_customer(database: Database, account: Account, session: Session) -> CustomerView:
    """The logged-in customer, while its session is still good; else SessionEnded."""
    if session.account != account.id or session.customer is None:
        raise SessionEnded()

    def load(connection: Any) -> CustomerView | None:
        row = connection.one(queries.SESSION_CUSTOMER, _session_key(account, session))
        if row is None:
            return None
        default_template = None
        if row[7] is None:
            found = connection.one(queries.DEFAULT_TEMPLATE, {"account_id": account.id})
            default_template = found[0] if found is not None else None
        allowed = _profiles.decode(row[5])
        profiles: list[ShippingProfile] = []
        if allowed:
            known = {
                profile_id: ShippingProfile(provider, name)
                for profile_id, provider, name in connection.all(
                    queries.ACCOUNT_PROFILES, {"account_id": account.id}
                )
            }
            profiles = [known[profile_id] for profile_id in allowed if profile_id in known]
        return CustomerView(
            name=row[0],
            username=row[1],
            emailaddress=row[2],
            language=row[3],
            warehouse=row[6],
            template=row[7],
            default_template=default_template,
            shipping_profiles=profiles,
            password_hash=row[4],
        )

    customer = database.read(load)
    if customer is None:
        raise SessionEnded()
    return customer


def check_new_password(new_password: str, again: str) -> None:
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
    customer = current_customer(database, account, session)
    retry_after = throttle.retry_after(account.id, customer.username, address)
    if retry_after is not None:
        raise TooManyAttempts(retry_after, account)
    current_ok = len(current_password) <= PASSWORD_MAX and await verify_password(
        customer.password_hash, current_password
    )
    if not current_ok:
        # A wrong current password counts like a failed login: a left-open session is no
        # way to guess the password.
        LOGIN_FAILURES.inc()
        throttle.failed(account.id, customer.username, address)
        raise WrongCurrentPassword()
    check_new_password(new_password, again)
    password_hash = await hash_password(new_password)
    values = {**_session_key(account, session), "password_hash": password_hash}
    values["updated_at"] = utcnow()

    def set_password(connection: Connection) -> None:
        if connection.execute(queries.SET_PASSWORD, values) != 1:
            raise SessionEnded()
        audit.record(
            connection,
            account.id,
            session.customer or 0,
            "update",
            audit.Actor.portal(session.customer or 0, customer.username),
            {"password": audit.PASSWORD_CHANGED},
        )

    await database.write(set_password)
    assert session.version is not None
    return session.version + 1


async def log_out(database: Database, account: Account, session: Session) -> None:
    """End every session of the customer: a copied cookie stops working too."""
    if session.account != account.id or session.customer is None:
        return
    await database.write(lambda c: c.execute(queries.END_SESSIONS, _session_key(account, session)))
