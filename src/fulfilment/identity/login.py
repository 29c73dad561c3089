"""Logging in, for either kind of person: the password (throttled, in constant time), the
factors a login still needs, the session's person at each request, a new password, and
logging out. `proved` is where every factor ends: password, TOTP, recovery code, passkey."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..accounts.service import Account
from ..clock import utcnow
from ..db import Connection, Database
from ..fields import PASSWORD_MAX, PASSWORD_MIN, USERNAME_MAX, username_key
from ..observability import LOGIN_FAILURES
from ..passwords import hash_password, verify_password
from ..pending_links import void_links
from ..threads import Busy
from ..web.errors import FieldErrors, PageError
from ..web.sessions import Session
from . import audit
from .errors import (
    LoginRefused,
    PasswordsDiffer,
    PasswordTooLong,
    PasswordTooShort,
    PasswordUnusable,
    SessionEnded,
    TooManyAttempts,
    UsePasskey,
    WrongCurrentPassword,
)
from .kinds import Kind, Person
from .passkeys import ceremony as passkeys
from .throttle import Throttle

# What a person proved: the first factor, a second factor, or both at once.
Factor = Literal["password", "totp", "recovery-code", "passkey"]
# Where a session stands: the second factor to come ("code"), one to set up because the
# account requires it ("enrol"), or logged in ("in").
Stage = Literal["code", "enrol", "in"]


@dataclass(frozen=True, slots=True)
class LoggedIn:
    """What the session of a login carries: the person, its credentials version (a change
    of credentials ends the session) and its stage."""

    person: int
    version: int
    stage: Stage


async def check_password(
    database: Database,
    throttle: Throttle,
    kind: Kind,
    account: Account,
    username: str,
    password: str,
    address: str,
) -> Person:
    """The person whose username and password these are. The attempt is counted before
    anything is looked at, so no number of attempts at once gets more verifications than
    the throttle allows; every refusal but a throttled one costs one argon2id verification."""
    retry_after = await throttle.attempt(kind.name, account.id, username, address)
    if retry_after is not None:
        LOGIN_FAILURES.inc()
        raise TooManyAttempts(retry_after, account)
    # A username no one can have is not looked up (PostgreSQL refuses a NUL in text), but
    # answered like any other wrong one, after the same verification.
    plausible = (
        0 < len(username) <= USERNAME_MAX
        and "\x00" not in username
        and len(password) <= PASSWORD_MAX
    )
    person: Person | None = None
    if plausible:
        key = {"account_id": account.id, "username_key": username_key(username)}
        person = await database.read(lambda c: c.one(kind.statements.by_username, key))
    try:
        verified = await verify_password(
            person.password_hash if person is not None else None, password if plausible else ""
        )
    except Busy:
        LOGIN_FAILURES.inc()
        raise
    if person is None or not verified or not person.may_log_in:
        LOGIN_FAILURES.inc()
        raise LoginRefused()
    # The password's counters only: the second factor's are its own.
    await throttle.succeeded(kind.name, account.id, username, address)
    return person


async def second_factor_required(database: Database, kind: Kind, account: Account) -> bool:
    row = await database.read(lambda c: c.one(kind.statements.required, {"account_id": account.id}))
    return row is not None and bool(row.required)


def has_second_factor(person: Person) -> bool:
    """Whether the person has a second factor to be asked for after its password."""
    return person.totp_secret is not None


async def proved(
    database: Database, kind: Kind, account: Account, person: Person, factor: Factor
) -> LoggedIn:
    """The one entry point of every factor: `person` has just proved `factor`. A password
    leads to the second factor when the person has one ("code"), or to setting one up when
    the account requires it ("enrol"); a second factor (TOTP, recovery code) completes a
    login, and a passkey is both factors at once. A completed login is recorded (the last
    login; a customer's trail). Where the account requires a second factor and the person's
    is a passkey, a password is refused (UsePasskey): knowing it must not be enough to set
    up another factor. The caller starts the session the answer describes, with a
    new form token, as at every login."""
    if factor == "password":
        if has_second_factor(person):
            return LoggedIn(person.id, person.version, "code")
        if await second_factor_required(database, kind, account):
            if await passkeys.has_passkey(database, kind, account.id, person.id):
                raise UsePasskey()
            return LoggedIn(person.id, person.version, "enrol")

    async def record(connection: Connection) -> None:
        await audit.logged_in(connection, kind, account.id, person)

    await database.write(record)
    return LoggedIn(person.id, person.version, "in")


async def session_person(
    database: Database, kind: Kind, account: Account, session: Session | None
) -> Person:
    """The person of a session while it is still good (the person may log in and has the
    credentials it had at login); else SessionEnded."""
    if session is None or session.account != account.id or session.person is None:
        raise SessionEnded()
    key = {"account_id": account.id, "id": session.person, "version": session.version}
    person = await database.read(lambda c: c.one(kind.statements.in_session, key))
    if person is None:
        raise SessionEnded()
    return person


async def must_enrol(database: Database, kind: Kind, account: Account, person: Person) -> bool:
    """Whether the account requires a second factor this person has not set up: checked at
    every request, so a new requirement reaches sessions already open. A passkey counts:
    it is both factors (a session of a person with one and no TOTP comes from a passkey,
    or from before the requirement)."""
    if has_second_factor(person) or not await second_factor_required(database, kind, account):
        return False
    return not await passkeys.has_passkey(database, kind, account.id, person.id)


def check_new_password(new_password: str, again: str) -> None:
    """Refuse a new password that differs from its repeat or breaks the rules."""
    problems = new_password_problems(new_password, again)
    if problems:
        raise next(iter(problems.values()))


def new_password_problems(new_password: str, again: str) -> dict[str, PageError]:
    """Every problem of a new password and its repeat, by field."""
    problems: dict[str, PageError] = {}
    if len(new_password) < PASSWORD_MIN:
        problems["new_password"] = PasswordTooShort(min=PASSWORD_MIN)
    elif len(new_password) > PASSWORD_MAX:
        problems["new_password"] = PasswordTooLong(max=PASSWORD_MAX)
    elif "\x00" in new_password or not _encodable(new_password):
        problems["new_password"] = PasswordUnusable()
    if new_password != again:
        problems["new_password_again"] = PasswordsDiffer()
    return problems


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def check_current_password(
    throttle: Throttle, kind: Kind, account: Account, person: Person, typed: str, address: str
) -> bool:
    """Whether `typed` is the person's password, counted like a login (a session left open
    is no way to guess it)."""
    username = person.username or ""
    retry_after = await throttle.attempt(kind.name, account.id, username, address)
    if retry_after is not None:
        raise TooManyAttempts(retry_after, account)
    right = len(typed) <= PASSWORD_MAX and await verify_password(person.password_hash, typed)
    if right:
        await throttle.succeeded(kind.name, account.id, username, address)
    else:
        LOGIN_FAILURES.inc()
    return right


async def change_password(
    database: Database,
    throttle: Throttle,
    kind: Kind,
    account: Account,
    person: Person,
    current_password: str,
    new_password: str,
    again: str,
    address: str,
) -> int:
    """Set a new password after checking the current one, every field's error in one
    answer; returns the new credentials version, which ends every other session of the
    person and voids its pending links."""
    problems = new_password_problems(new_password, again)
    if not await check_current_password(throttle, kind, account, person, current_password, address):
        problems = {"current_password": WrongCurrentPassword(), **problems}
    if problems:
        raise FieldErrors(problems)
    password_hash = await hash_password(new_password)
    statements = kind.statements
    values = {"account_id": account.id, "id": person.id, "version": person.version}

    async def change(connection: Connection) -> None:
        current = await connection.one(statements.in_session_locked, values)
        if current is None:
            raise SessionEnded()
        await connection.execute(
            statements.set_password, {**values, "password_hash": password_hash, "now": utcnow()}
        )
        await void_links(connection, kind.name, account.id, person.id)
        await audit.record(
            connection, kind, account.id, person, "set_password", audit.by_self(kind, person)
        )

    await database.write(change)
    return person.version + 1


async def log_out(database: Database, kind: Kind, account: Account, session: Session) -> None:
    """End every session of the person: a copied cookie stops working too."""
    if session.account != account.id or session.person is None or session.version is None:
        return
    values = {"account_id": account.id, "id": session.person, "version": session.version}
    await database.write_statement(kind.statements.end_sessions, values)
