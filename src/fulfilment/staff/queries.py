"""The statements behind staff users, built once and compiled once per dialect."""

from __future__ import annotations

import sqlalchemy as sa

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
_in_account = (users.c.account_id == _p("account_id"), users.c.iduser == _p("id"))

INSERT_USER = (
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
    .returning(*USER_COLUMNS)
)
USERNAME_OWNER = sa.select(users.c.iduser).where(
    users.c.account_id == _p("account_id"), users.c.username_key == _p("username_key")
)
GET_USER = sa.select(*USER_COLUMNS).where(*_in_account)
# A user about to change, with whether it has a second factor.
USER_DETAILS = sa.select(*USER_COLUMNS, users.c.totp_secret.is_not(None)).where(*_in_account)
USER_FOR_UPDATE = USER_DETAILS.with_for_update()
# Changes to who is an administrator take turns per account (the account's row is the lock
# on PostgreSQL; SQLite writes one at a time), so two at once cannot leave none.
LOCK_ACCOUNT = sa.select(accounts.c.id).where(accounts.c.id == _p("account_id")).with_for_update()
OTHER_ACTIVE_ADMINS = sa.select(sa.func.count()).where(
    users.c.account_id == _p("account_id"),
    users.c.iduser != _p("id"),
    users.c.admin.is_(True),
    users.c.active.is_(True),
)
PAGE = (
    sa.select(*USER_COLUMNS)
    .where(users.c.account_id == _p("account_id"))
    .order_by(users.c.iduser)
    .limit(_p("limit"))
    .offset(_p("offset"))
)
PAGE_BY_ACTIVE = (
    sa.select(*USER_COLUMNS)
    .where(users.c.account_id == _p("account_id"), users.c.active == _p("active"))
    .order_by(users.c.iduser)
    .limit(_p("limit"))
    .offset(_p("offset"))
)
KEY_CREATOR = (
    sa.select(*USER_COLUMNS)
    .join(api_keys, api_keys.c.created_by_iduser == users.c.iduser)
    .where(api_keys.c.id == _p("key_id"), users.c.account_id == _p("account_id"))
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
