"""What the portal's and the back office's links sent by mail share: who a forgotten
password is asked for, whether a link can still be used, and the checks on a new address.
Each side names its own queries and link subject."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.sql import ClauseElement

from ..accounts.service import Account
from ..auth import zone
from ..db import Connection, Database, Row
from ..fields import EMAIL_MAX, PASSWORD_MAX, check_email, username_key
from ..mail import tokens
from ..mail.mailer import Mailer
from ..observability import LOGIN_FAILURES
from ..passwords import verify_password
from ..threads import Busy
from .errors import PageError, WrongCurrentPassword
from .i18n import N_
from .throttle import LoginThrottle

# People sharing one address each get a mail of their own; past this many, none more.
SHARED_ADDRESS_MAX = 5
IDENTIFIER_MAX = max(EMAIL_MAX, 300)


class LinkUnusable(PageError):
    status = 410
    message = N_("This link has expired or has already been used.")


class TooManyRequests(PageError):
    status = 429
    message = N_("Too many requests. Try again after %(time)s.")

    def __init__(self, retry_after: int, account: Account) -> None:
        until = datetime.now(UTC) + timedelta(seconds=retry_after + 59)
        super().__init__(time=until.astimezone(zone(account.timezone)).strftime("%H:%M %Z"))
        self.retry_after = retry_after


class EmailInvalid(PageError):
    field = "new_address"
    message = N_("This does not look like an e-mail address.")


class EmailUnchanged(PageError):
    field = "new_address"
    message = N_("This is already your e-mail address.")


async def recipients(
    database: Database,
    mailer: Mailer,
    account: Account,
    identifier: str,
    address: str,
    by_username: ClauseElement,
    by_email: ClauseElement,
    email_values: Callable[[str], dict[str, Any]],
) -> list[Row]:
    """The rows (id, username, e-mail address, language) a forgotten password named by
    `identifier` (a username or an e-mail address) is mailed to: `by_username` and, for an
    address, `by_email` (with `email_values(identifier)`), as far as the mail throttle lets
    each address have one. Asking too often from the client `address` is refused."""
    retry_after = await mailer.throttle.asked_from(address)
    if retry_after is not None:
        raise TooManyRequests(retry_after, account)
    identifier = identifier.strip()
    if not identifier or len(identifier) > IDENTIFIER_MAX or "\x00" in identifier:
        return []
    try:
        identifier.encode("utf-8")
    except UnicodeEncodeError:
        return []

    async def look_up(connection: Connection) -> list[Row]:
        found = await connection.all(
            by_username, {"account_id": account.id, "username_key": username_key(identifier)}
        )
        if "@" in identifier:
            values = {"account_id": account.id, **email_values(identifier)}
            found += await connection.all(by_email, {**values, "limit": SHARED_ADDRESS_MAX})
        return list({row[0]: row for row in found}.values())[:SHARED_ADDRESS_MAX]

    return [row for row in await database.read(look_up) if await mailer.throttle.may_mail(row[2])]


async def peek(
    database: Database, account: Account, subject: str, token: str, purposes: tuple[str, ...]
) -> tokens.Redeemed:
    """A usable link for one of `purposes`, without using it up; LinkUnusable otherwise."""

    async def read(connection: Connection) -> tokens.Redeemed | None:
        return await tokens.peek(connection, account.id, subject, token, purposes)

    found = await database.read(read)
    if found is None:
        raise LinkUnusable()
    return found


async def use(
    connection: Connection, account: Account, subject: str, token: str, purposes: tuple[str, ...]
) -> tokens.Redeemed:
    """Use the link up (in the caller's transaction); LinkUnusable when it cannot be."""
    used = await tokens.use(connection, account.id, subject, token, purposes)
    if used is None:
        raise LinkUnusable()
    return used


def new_address(typed: str) -> str:
    """A new e-mail address as typed, trimmed; EmailInvalid when it is none."""
    typed = typed.strip()
    try:
        typed.encode("utf-8")
        check_email(typed)
    except (ValueError, UnicodeEncodeError):
        raise EmailInvalid() from None
    return typed


async def check_current_password(
    throttle: LoginThrottle,
    account: Account,
    username: str,
    address: str,
    password_hash: str,
    typed: str,
    unavailable: type[PageError],
) -> None:
    """The current password typed to change the address, once the login throttle has let
    the attempt through: WrongCurrentPassword (counted as a failed login) when it is not
    right, `unavailable` when the password hashing is too busy."""
    try:
        current_ok = len(typed) <= PASSWORD_MAX and await verify_password(password_hash, typed)
    except Busy:
        raise unavailable() from None
    if not current_ok:
        LOGIN_FAILURES.inc()
        raise WrongCurrentPassword()
    await throttle.succeeded(account.id, username, address)
