"""What the administrators' pages do (API keys, staff users, the account's settings and its
audit log): each action one call into its package's service, in one transaction, as the
acting staff user."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from ..accounts import audit
from ..accounts import service as accounts
from ..accounts.service import Account, AccountSettings, KeyListing
from ..actors import Actor
from ..auth import zone
from ..customers.rules import clean_email, clean_username
from ..db import Connection, Database
from ..errors import InvalidInput
from ..fields import LANGUAGES
from ..identity import links
from ..identity.kinds import STAFF
from ..mail.mailer import Mailer
from ..passwords import hash_password
from ..staff import service as staff
from ..staff.schemas import User
from ..wire import PAGE_SIZE
from .service import StaffView

KEY_PAGE_SIZE = PAGE_SIZE


def actor(user: StaffView) -> Actor:
    """The audit trail's name for a change made in the back office."""
    return Actor("staff", user.iduser, user.username)


# -- API keys -----------------------------------------------------------------------------


async def keys(database: Database, account: Account, offset: int) -> list[KeyListing]:
    return await accounts.key_page(database, account, offset)


async def create_key(
    database: Database, account: Account, user: StaffView, name: str, customer: int | None
) -> tuple[int, str]:
    """A new key, made by `user`: its id, and the key itself (shown once)."""
    return await database.write(
        lambda c: staff.create_api_key_by(c, account, (user.iduser, user.username), name, customer)
    )


async def listed_key(database: Database, account: Account, key_id: int) -> KeyListing:
    return await accounts.listed_key(database, account, key_id)


async def revoke_key(database: Database, account: Account, user: StaffView, key_id: int) -> None:
    await database.write(lambda c: accounts.revoke_api_key(c, account, key_id, actor(user)))


# -- staff users --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StaffMember:
    user: User
    second_factor: bool


async def staff_users(database: Database, account: Account) -> list[User]:
    return await database.read(lambda c: staff.all_users(c, account))


async def staff_user(database: Database, account: Account, iduser: int) -> StaffMember:
    async def read(connection: Connection) -> StaffMember:
        user, second_factor = await staff.user_with_second_factor(connection, account, iduser)
        return StaffMember(user, second_factor)

    return await database.read(read)


async def deactivate_user(
    database: Database, account: Account, user: StaffView, iduser: int
) -> None:
    await database.write(lambda c: staff.deactivate_user(c, account, iduser, actor(user)))


async def reactivate_user(
    database: Database, account: Account, user: StaffView, iduser: int
) -> None:
    await database.write(lambda c: staff.reactivate_user(c, account, iduser, actor(user)))


async def set_admin(
    database: Database, account: Account, user: StaffView, iduser: int, admin: bool
) -> None:
    await database.write(lambda c: staff.set_admin(c, account, iduser, admin, actor(user)))


async def reset_second_factor(
    database: Database, account: Account, user: StaffView, iduser: int
) -> None:
    await database.write(lambda c: staff.reset_second_factor_of(c, account, iduser, actor(user)))


async def invitation_problems(
    database: Database, account: Account, typed: dict[str, str]
) -> dict[str, str]:
    """Each field of an invitation that cannot be used, by name, with the rule it breaks
    ("taken" for a username another staff user has): all of them at once."""
    checks: dict[str, Callable[[], object]] = {
        "username": lambda: clean_username(typed["username"]),
        "emailaddress": lambda: clean_email(typed["emailaddress"]),
        "firstname": lambda: staff.clean_person_name("firstname", typed["firstname"]),
        "lastname": lambda: staff.clean_person_name("lastname", typed["lastname"]),
    }
    problems: dict[str, str] = {}
    for field, check in checks.items():
        try:
            check()
        except InvalidInput:
            problems[field] = field
    if typed["language"] not in LANGUAGES:
        problems["language"] = "language"
    if "username" not in problems and await staff.username_in_use(
        database, account, typed["username"]
    ):
        problems["username"] = "taken"
    return problems


async def invite_user(
    database: Database, mailer: Mailer, account: Account, user: StaffView, new: staff.NewUser
) -> User:
    """A new staff user (checked with NewUser.checked), mailed a link to choose its password:
    until then it has a random one nobody knows. User, audit entry and mail are written in
    one transaction."""
    unknown_password = await hash_password(secrets.token_urlsafe(32))

    async def create(connection: Connection) -> User:
        invited = await staff.create_user(
            connection, account, new, unknown_password, actor(user), action="invite"
        )
        lifetime = links.invitation_lifetime(database.settings)
        await links.invite(connection, mailer, STAFF, account, invited.iduser, lifetime)
        return invited

    invited = await database.write(create)
    mailer.written()
    return invited


# -- the account --------------------------------------------------------------------------


async def change_settings(
    database: Database, account: Account, user: StaffView, changed: AccountSettings
) -> dict[str, object]:
    return await database.write(
        lambda c: accounts.change_settings(c, account, changed, actor(user))
    )


@dataclass(frozen=True, slots=True)
class LogFilters:
    """Who can be chosen in the audit log's filter: staff users by name, API keys by name
    and prefix (two keys may share a name; their prefixes differ)."""

    users: list[tuple[int, str]]
    keys: list[tuple[int, str]]

    @property
    def key_labels(self) -> dict[int, str]:
        return dict(self.keys)


async def log_filters(database: Database, account: Account) -> LogFilters:
    async def read(connection: Connection) -> LogFilters:
        users = await staff.all_users(connection, account)
        keys = await accounts.list_api_keys(connection, account)
        return LogFilters(
            [(user.iduser, user.username) for user in users],
            [(key.id, f"{key.name or key.prefix} ({key.prefix}…)") for key in keys],
        )

    return await database.read(read)


async def log_page(
    database: Database, account: Account, who: audit.Who, what: str, offset: int
) -> list[audit.LogEntry]:
    return await audit.log_page(database, account.id, zone(account.timezone), who, what, offset)
