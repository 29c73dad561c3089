"""The statements behind staff users, built once and compiled once per dialect."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa

from ..db import Query
from ..fields import Language
from ..tables import accounts, api_keys, staff_users

_p = sa.bindparam
users = staff_users

USER_COLUMNS = (
    users.c.iduser,
    users.c.username,
    users.c.firstname,
    users.c.lastname,
    users.c.emailaddress,
    users.c.language,
    users.c.admin,
    users.c.active,
    users.c.last_login_at,
    users.c.created_at,
    users.c.updated_at,
)


class UserRow(NamedTuple):
    iduser: int
    username: str
    firstname: str | None
    lastname: str | None
    emailaddress: str
    language: Language
    admin: bool  # SQLite's flags are 0 and 1
    active: bool
    last_login_at: datetime | str | None  # SQLite's are text (see wire.format_datetime)
    created_at: datetime | str
    updated_at: datetime | str


class UserDetailsRow(NamedTuple):
    """A user, with whether it has set up a second factor."""

    iduser: int
    username: str
    firstname: str | None
    lastname: str | None
    emailaddress: str
    language: Language
    admin: bool
    active: bool
    last_login_at: datetime | str | None
    created_at: datetime | str
    updated_at: datetime | str
    has_second_factor: bool


class UserIdRow(NamedTuple):
    iduser: int


class AccountIdRow(NamedTuple):
    id: int


class AdminCountRow(NamedTuple):
    admins: int


_in_account = (users.c.account_id == _p("account_id"), users.c.iduser == _p("id"))

INSERT_USER = Query(
    sa.insert(users)
    .values(
        account_id=_p("account_id"),
        username=_p("username"),
        username_key=_p("username_key"),
        firstname=_p("firstname"),
        lastname=_p("lastname"),
        emailaddress=_p("emailaddress"),
        language=_p("language"),
        admin=_p("admin"),
        active=sa.true(),
        password_hash=_p("password_hash"),
        credentials_version=0,
        created_at=_p("now"),
        updated_at=_p("now"),
    )
    .returning(*USER_COLUMNS),
    UserRow,
)
USERNAME_OWNER = Query(
    sa.select(users.c.iduser).where(
        users.c.account_id == _p("account_id"), users.c.username_key == _p("username_key")
    ),
    UserIdRow,
)
GET_USER = Query(sa.select(*USER_COLUMNS).where(*_in_account), UserRow)
# A user about to change, with whether it has a second factor.
_USER_DETAILS = sa.select(
    *USER_COLUMNS, users.c.totp_secret.is_not(None).label("has_second_factor")
).where(*_in_account)
USER_DETAILS = Query(_USER_DETAILS, UserDetailsRow)
USER_FOR_UPDATE = Query(_USER_DETAILS.with_for_update(), UserDetailsRow)
# Changes to who is an administrator take turns per account (the account's row is the lock
# on PostgreSQL; SQLite writes one at a time), so two at once cannot leave none.
LOCK_ACCOUNT = Query(
    sa.select(accounts.c.id).where(accounts.c.id == _p("account_id")).with_for_update(),
    AccountIdRow,
)
OTHER_ACTIVE_ADMINS = Query(
    sa.select(sa.func.count().label("admins")).where(
        users.c.account_id == _p("account_id"),
        users.c.iduser != _p("id"),
        users.c.admin.is_(True),
        users.c.active.is_(True),
    ),
    AdminCountRow,
)
PAGE = Query(
    sa.select(*USER_COLUMNS)
    .where(users.c.account_id == _p("account_id"))
    .order_by(users.c.iduser)
    .limit(_p("limit"))
    .offset(_p("offset")),
    UserRow,
)
PAGE_BY_ACTIVE = Query(
    sa.select(*USER_COLUMNS)
    .where(users.c.account_id == _p("account_id"), users.c.active == _p("active"))
    .order_by(users.c.iduser)
    .limit(_p("limit"))
    .offset(_p("offset")),
    UserRow,
)
KEY_CREATOR = Query(
    sa.select(*USER_COLUMNS)
    .join(api_keys, api_keys.c.created_by_iduser == users.c.iduser)
    .where(api_keys.c.id == _p("key_id"), users.c.account_id == _p("account_id")),
    UserRow,
)

DEACTIVATE = (
    sa.update(users)
    .where(*_in_account)
    .values(
        active=sa.false(),
        credentials_version=users.c.credentials_version + 1,
        updated_at=_p("now"),
    )
)
REACTIVATE = sa.update(users).where(*_in_account).values(active=sa.true(), updated_at=_p("now"))
SET_ADMIN = sa.update(users).where(*_in_account).values(admin=_p("admin"), updated_at=_p("now"))
