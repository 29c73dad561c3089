"""The statements behind staff users, built once and compiled once per dialect."""

from __future__ import annotations

import sqlalchemy as sa

from ..tables import accounts, api_keys, staff_recovery_codes, staff_users

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
RESET_SECOND_FACTOR = (
    sa.update(users)
    .where(*_in_account)
    .values(
        totp_secret=sa.null(),
        totp_last_step=sa.null(),
        credentials_version=users.c.credentials_version + 1,
        updated_at=_p("now"),
    )
)
DELETE_RECOVERY_CODES = sa.delete(staff_recovery_codes).where(
    staff_recovery_codes.c.iduser == _p("id")
)
INSERT_RECOVERY_CODE = sa.insert(staff_recovery_codes).values(
    iduser=_p("id"), code_hash=_p("code_hash")
)
# A recovery code works once: the one statement that finds it also removes it.
USE_RECOVERY_CODE = sa.delete(staff_recovery_codes).where(
    staff_recovery_codes.c.iduser == _p("id"),
    staff_recovery_codes.c.code_hash == _p("code_hash"),
)
RECOVERY_CODES_LEFT = sa.select(sa.func.count()).where(staff_recovery_codes.c.iduser == _p("id"))

# What a login needs, looked up by the key usernames are unique by.
LOGIN = sa.select(
    users.c.iduser,
    users.c.active,
    users.c.password_hash,
    users.c.credentials_version,
    users.c.totp_secret,
).where(users.c.account_id == _p("account_id"), users.c.username_key == _p("username_key"))
# A session is good while the user is active and its credentials are the ones it had.
SESSION_USER = sa.select(*USER_COLUMNS, users.c.totp_secret, users.c.totp_last_step).where(
    *_in_account,
    users.c.active.is_(True),
    users.c.credentials_version == _p("version"),
)
SET_LAST_LOGIN = sa.update(users).where(*_in_account).values(last_login_at=_p("now"))
ENROL_SECOND_FACTOR = (
    sa.update(users)
    .where(*_in_account, users.c.totp_secret.is_(None))
    .values(totp_secret=_p("secret"), totp_last_step=_p("step"), updated_at=_p("now"))
)
# A TOTP code is accepted once: its time step must be later than the last one accepted.
ACCEPT_STEP = (
    sa.update(users)
    .where(
        *_in_account,
        sa.or_(users.c.totp_last_step.is_(None), users.c.totp_last_step < _p("step")),
    )
    .values(totp_last_step=_p("step"))
)

REQUIRES_SECOND_FACTOR = sa.select(accounts.c.require_staff_2fa).where(
    accounts.c.id == _p("account_id")
)
# Links sent by mail (admin/recovery.py): active users named by username or address.
_recovery_columns = (users.c.iduser, users.c.username, users.c.emailaddress, users.c.language)
RECOVERY_BY_USERNAME = sa.select(*_recovery_columns).where(
    users.c.account_id == _p("account_id"),
    users.c.active.is_(True),
    users.c.username_key == _p("username_key"),
)
RECOVERY_BY_EMAIL = (
    sa.select(*_recovery_columns)
    .where(
        users.c.account_id == _p("account_id"),
        users.c.active.is_(True),
        sa.func.lower(users.c.emailaddress) == _p("emailaddress"),
    )
    .order_by(users.c.iduser)
    .limit(_p("limit"))
)
FOR_LINK = sa.select(users.c.active, users.c.emailaddress).where(*_in_account).with_for_update()
# A new password ends every session of the user.
SET_PASSWORD_FROM_LINK = (
    sa.update(users)
    .where(*_in_account)
    .values(
        password_hash=_p("password_hash"),
        credentials_version=users.c.credentials_version + 1,
        updated_at=_p("now"),
    )
)
# A new e-mail address, asked for with the current password and confirmed from its mailbox.
FOR_EMAIL_CHANGE = sa.select(users.c.password_hash, users.c.emailaddress).where(
    *_in_account, users.c.active.is_(True)
)
CONFIRM_EMAIL = sa.select(users.c.username, users.c.emailaddress, users.c.language).where(
    *_in_account, users.c.active.is_(True)
)
SET_EMAIL = (
    sa.update(users)
    .where(*_in_account)
    .values(emailaddress=_p("emailaddress"), updated_at=_p("now"))
)
