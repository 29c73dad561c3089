"""The rules of staff users: creating them (the command line), reading them (the users API
and the back office) and deactivating them. Logging in, second factors and mailed links
are identity/'s."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from ..accounts import audit
from ..accounts.service import Account, create_api_key
from ..actors import Actor
from ..auth import KEYS_CHANGED, Principal, zone
from ..clock import utcnow
from ..customers.rules import clean_email, clean_username
from ..db import Connection, Database
from ..errors import InvalidInput, NotFound
from ..fields import LANGUAGES, PASSWORD_MAX, PASSWORD_MIN, username_key
from ..identity import factors
from ..identity.kinds import STAFF
from ..pending_links import void_links
from ..wire import PAGE_SIZE, format_datetime
from . import queries
from .schemas import User

NAME_MAX = 255


class UserNotFound(NotFound):
    def __init__(self, what: str) -> None:
        super().__init__(f"Staff user {what} not found.")


class LastAdmin(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "admin: the account's last active administrator stays one (and stays active)."
        )


class StaffUsernameTaken(InvalidInput):
    def __init__(self, username: str) -> None:
        super().__init__(f"username '{username}' is already used by another staff user.")


def to_user(row: queries.UserRow | queries.UserDetailsRow, timezone: ZoneInfo) -> User:
    return User(
        iduser=row.iduser,
        username=row.username,
        firstname=row.firstname,
        lastname=row.lastname,
        emailaddress=row.emailaddress,
        language=row.language,
        admin=bool(row.admin),
        active=bool(row.active),
        last_login_at=format_datetime(row.last_login_at, timezone),
        created_at=format_datetime(row.created_at, timezone) or "",
        updated_at=format_datetime(row.updated_at, timezone) or "",
    )


# -- validating ---------------------------------------------------------------------------


def clean_person_name(field: str, value: str | None) -> str | None:
    """A first or last name: trimmed, empty is none, at most 255 characters."""
    if value is None:
        return None
    value = value.strip()
    if "\x00" in value:
        raise InvalidInput(f"{field} may not contain NUL characters.")
    if len(value) > NAME_MAX:
        raise InvalidInput(f"{field} must be at most {NAME_MAX} characters.")
    return value or None


def check_password(password: str) -> str:
    """A staff password follows the customers' rules: 8-1024 characters, storable."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidInput(f"password must be {PASSWORD_MIN} to {PASSWORD_MAX} characters.")
    if "\x00" in password:
        raise InvalidInput("password may not contain NUL characters.")
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("password contains characters that are not valid Unicode.") from None
    return password


@dataclass(frozen=True, slots=True)
class NewUser:
    """A staff user to create, checked by `checked()` before its password is hashed."""

    username: str
    emailaddress: str
    firstname: str | None = None
    lastname: str | None = None
    language: str = "nl"
    admin: bool = False

    def checked(self) -> NewUser:
        username = clean_username(self.username)
        emailaddress = clean_email(self.emailaddress)
        assert username is not None
        assert emailaddress is not None
        if self.language not in LANGUAGES:
            raise InvalidInput(f"language must be one of {', '.join(LANGUAGES)}.")
        return NewUser(
            username=username,
            emailaddress=emailaddress,
            firstname=clean_person_name("firstname", self.firstname),
            lastname=clean_person_name("lastname", self.lastname),
            language=self.language,
            admin=self.admin,
        )


async def username_in_use(database: Database, account: Account, username: str) -> bool:
    """Whether a staff user of `account` has this username (case-insensitively)."""
    key = {"account_id": account.id, "username_key": username_key(username)}
    return await database.read(lambda c: c.one(queries.USERNAME_OWNER, key)) is not None


# -- the command line ---------------------------------------------------------------------


async def create_user(
    connection: Connection,
    account: Account,
    new: NewUser,
    password_hash: str,
    actor: Actor = audit.COMMAND_LINE,
    action: str = "create",
) -> User:
    """Create a staff user (checked with NewUser.checked) in `account`."""
    key = username_key(new.username)
    taken = await connection.one(
        queries.USERNAME_OWNER, {"account_id": account.id, "username_key": key}
    )
    if taken is not None:
        raise StaffUsernameTaken(new.username)
    row = await connection.one(
        queries.INSERT_USER,
        {
            "account_id": account.id,
            "username": new.username,
            "username_key": key,
            "firstname": new.firstname,
            "lastname": new.lastname,
            "emailaddress": new.emailaddress,
            "language": new.language,
            "admin": new.admin,
            "password_hash": password_hash,
            "now": utcnow(),
        },
    )
    assert row is not None
    user = to_user(row, zone(account.timezone))
    changes = {"emailaddress": user.emailaddress, "admin": user.admin}
    await audit.record(
        connection, account.id, actor, "staff_user", user.iduser, user.username, action, changes
    )
    return user


async def all_users(connection: Connection, account: Account) -> list[User]:
    """Every staff user of the account, by id."""
    users: list[User] = []
    while True:
        rows = await connection.all(
            queries.PAGE, {"account_id": account.id, "offset": len(users), "limit": PAGE_SIZE}
        )
        users += [to_user(row, zone(account.timezone)) for row in rows]
        if len(rows) < PAGE_SIZE:
            return users


async def user_with_second_factor(
    connection: Connection, account: Account, iduser: int
) -> tuple[User, bool]:
    """A user of the account, and whether it has set up a second factor."""
    row = await connection.one(queries.USER_DETAILS, {"account_id": account.id, "id": iduser})
    if row is None:
        raise UserNotFound(str(iduser))
    return to_user(row, zone(account.timezone)), bool(row.has_second_factor)


async def _user_id(connection: Connection, account: Account, username: str) -> int:
    row = await connection.one(
        queries.USERNAME_OWNER, {"account_id": account.id, "username_key": username_key(username)}
    )
    if row is None:
        raise UserNotFound(f"'{username}' of account '{account.subdomain}'")
    return row.iduser


async def deactivate(
    connection: Connection, account: Account, username: str, actor: Actor = audit.COMMAND_LINE
) -> None:
    """The command line's deactivate, by username."""
    await deactivate_user(connection, account, await _user_id(connection, account, username), actor)


async def reset_second_factor(
    connection: Connection, account: Account, username: str, actor: Actor = audit.COMMAND_LINE
) -> None:
    """The command line's reset of the second factor, by username."""
    user_id = await _user_id(connection, account, username)
    await reset_second_factor_of(connection, account, user_id, actor)


async def _changing(
    connection: Connection, account: Account, iduser: int
) -> queries.UserDetailsRow:
    """The user about to change (locked), or UserNotFound."""
    row = await connection.one(queries.USER_FOR_UPDATE, {"account_id": account.id, "id": iduser})
    if row is None:
        raise UserNotFound(str(iduser))
    return row


async def _another_admin_stays(connection: Connection, account: Account, iduser: int) -> None:
    """Refuse a change that would leave the account without an active administrator."""
    await connection.one(queries.LOCK_ACCOUNT, {"account_id": account.id})
    others = await connection.one(
        queries.OTHER_ACTIVE_ADMINS, {"account_id": account.id, "id": iduser}
    )
    if others is None or others.admins == 0:
        raise LastAdmin()


async def _record(
    connection: Connection,
    account: Account,
    actor: Actor,
    row: queries.UserDetailsRow,
    action: str,
    changes: dict[str, Any] | None = None,
) -> None:
    await audit.record(
        connection, account.id, actor, "staff_user", row.iduser, row.username, action, changes
    )


async def deactivate_user(
    connection: Connection, account: Account, iduser: int, actor: Actor
) -> None:
    """The user can no longer log in; its sessions end at their next request. The last
    active administrator cannot be deactivated."""
    row = await _changing(connection, account, iduser)
    if not row.active:
        return
    if row.admin:
        await _another_admin_stays(connection, account, iduser)
    values = {"account_id": account.id, "id": iduser, "now": utcnow()}
    await connection.execute(queries.DEACTIVATE, values)
    await void_links(connection, STAFF.name, account.id, iduser)
    # The keys the user made stop working: every worker's key cache reads them again.
    await connection.notify(KEYS_CHANGED)
    await _record(connection, account, actor, row, "deactivate")


async def reactivate_user(
    connection: Connection, account: Account, iduser: int, actor: Actor
) -> None:
    """The user can log in again (with the password it had)."""
    row = await _changing(connection, account, iduser)
    if row.active:
        return
    values = {"account_id": account.id, "id": iduser, "now": utcnow()}
    await connection.execute(queries.REACTIVATE, values)
    await connection.notify(KEYS_CHANGED)
    await _record(connection, account, actor, row, "reactivate")


async def set_admin(
    connection: Connection, account: Account, iduser: int, admin: bool, actor: Actor
) -> None:
    """Make the user an administrator, or no longer one: never the last active one."""
    row = await _changing(connection, account, iduser)
    if bool(row.admin) == admin:
        return
    if not admin and row.active:
        await _another_admin_stays(connection, account, iduser)
    values = {"account_id": account.id, "id": iduser, "admin": admin, "now": utcnow()}
    await connection.execute(queries.SET_ADMIN, values)
    changes = {"admin": {"from": not admin, "to": admin}}
    await _record(connection, account, actor, row, "update", changes)


async def reset_second_factor_of(
    connection: Connection, account: Account, iduser: int, actor: Actor
) -> None:
    """Forget the user's TOTP seed and recovery codes (a lost phone): it sets one up again
    at its next login. Its sessions end and its pending links are void."""
    await _changing(connection, account, iduser)
    person = await connection.one(STAFF.statements.by_id, {"account_id": account.id, "id": iduser})
    assert person is not None
    await factors.reset(connection, STAFF, account.id, person, actor)


async def create_api_key_by(
    connection: Connection,
    account: Account,
    user: tuple[int, str],
    name: str = "",
    idfulfilment_customer: int | None = None,
) -> tuple[int, str]:
    """An API key made by a staff user (iduser, username) in the back office: `/users/me`
    answers with it, and the audit trail names the user."""
    return await create_api_key(
        connection,
        account,
        name,
        idfulfilment_customer,
        created_by=user[0],
        actor=Actor("staff", *user),
    )


# -- the users API ------------------------------------------------------------------------


def parse_active(raw: str | None) -> bool | None:
    """The users list's `active` filter: `true`/`false` (or 1/0); absent or empty: all."""
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise InvalidInput(f"active must be true or false, not '{raw[:40]}'.")


async def list_users(
    database: Database, principal: Principal, offset: int, active: bool | None
) -> list[User]:
    values = {
        "account_id": principal.account_id,
        "offset": offset,
        "limit": PAGE_SIZE,
        "active": active,
    }
    statement = queries.PAGE if active is None else queries.PAGE_BY_ACTIVE
    rows = await database.read(lambda c: c.all(statement, values))
    return [to_user(row, principal.timezone) for row in rows]


async def get_user(database: Database, principal: Principal, iduser: int | None) -> User:
    key = {"account_id": principal.account_id, "id": iduser or 0}
    row = await database.read(lambda c: c.one(queries.GET_USER, key))
    if row is None:
        raise UserNotFound(str(iduser or 0))
    return to_user(row, principal.timezone)


async def key_creator(database: Database, principal: Principal) -> User:
    """The staff user who made the caller's API key."""
    key = {"account_id": principal.account_id, "key_id": principal.api_key_id}
    row = await database.read(lambda c: c.one(queries.KEY_CREATOR, key))
    if row is None:
        raise NotFound("This API key was not created by a staff user.")
    return to_user(row, principal.timezone)
