"""The two kinds of person who log in, and the statements each kind's table answers: one
set of statements built from each table, so every rule below is written once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import sqlalchemy as sa

from ..db import Query
from ..tables import (
    accounts,
    customer_recovery_codes,
    fulfilment_customers,
    staff_recovery_codes,
    staff_users,
)

_p = sa.bindparam


class Person(NamedTuple):
    """What the rules read of a person, whichever its kind."""

    id: int
    username: str | None
    emailaddress: str | None
    language: str
    may_log_in: bool
    password_hash: str | None
    version: int
    # Encrypted (encryption.py): the TOTP seed once a second factor is set up.
    totp_secret: str | None
    # Encrypted: a second factor being set up, or recovery codes still to be shown once.
    factor_pending: str | None


class CodesRow(NamedTuple):
    codes: int


class RequiredRow(NamedTuple):
    required: bool


class Statements:
    """The statements of one kind's table, built once (each is compiled once per dialect)."""

    def __init__(
        self,
        table: sa.Table,
        id_column: str,
        may_log_in: str,
        codes: sa.Table,
        required: sa.Column[bool],
    ) -> None:
        c = table.c
        person_id = c[id_column]
        allowed = c[may_log_in]
        self.table = table
        # Labelled as Person's fields, whichever the table's names.
        columns = (
            person_id.label("id"),
            c.username,
            c.emailaddress,
            c.language,
            allowed.label("may_log_in"),
            c.password_hash,
            c.credentials_version.label("version"),
            c.totp_secret,
            c.factor_pending,
        )
        in_account = (c.account_id == _p("account_id"), person_id == _p("id"))
        self.by_username = Query(
            sa.select(*columns).where(
                c.account_id == _p("account_id"), c.username_key == _p("username_key")
            ),
            Person,
        )
        by_id = sa.select(*columns).where(*in_account)
        self.by_id = Query(by_id, Person)
        self.locked = Query(by_id.with_for_update(), Person)
        # A session is good while the person may log in and has the credentials it had.
        in_session = sa.select(*columns).where(
            *in_account, allowed.is_(True), c.credentials_version == _p("version")
        )
        self.in_session = Query(in_session, Person)
        self.in_session_locked = Query(in_session.with_for_update(), Person)
        # Who a forgotten password is mailed to: people who may log in and have an address.
        recoverable = (
            c.account_id == _p("account_id"),
            allowed.is_(True),
            c.emailaddress.is_not(None),
            c.username.is_not(None),
        )
        self.recoverable_by_username = Query(
            sa.select(*columns).where(*recoverable, c.username_key == _p("username_key")),
            Person,
        )
        # Customers by the indexed column their search uses (casefold()), staff users by
        # lower() of the address; callers give both values.
        same_address = (
            c.search_email == _p("search_email")
            if "search_email" in c
            else sa.func.lower(c.emailaddress) == _p("emailaddress")
        )
        self.recoverable_by_email = Query(
            sa.select(*columns)
            .where(*recoverable, same_address)
            .order_by(person_id)
            .limit(_p("limit")),
            Person,
        )
        # Every change of credentials goes through this: the sessions that carry the
        # version before it end.
        self.new_credentials = (
            sa.update(table)
            .where(*in_account)
            .values(credentials_version=c.credentials_version + 1)
        )
        self.end_sessions = self.new_credentials.where(c.credentials_version == _p("version"))
        self.set_password = self.new_credentials.values(
            password_hash=_p("password_hash"), updated_at=_p("now")
        )
        self.allow_login = sa.update(table).where(*in_account).values({may_log_in: True})
        new_address: dict[str, object] = {
            "emailaddress": _p("emailaddress"),
            "updated_at": _p("now"),
        }
        if "search_email" in c:
            # What the customers' search matches (customers/queries.py).
            new_address["search_email"] = _p("search_email")
        self.set_email = self.new_credentials.values(new_address)
        self.last_login = sa.update(table).where(*in_account).values(last_login_at=_p("now"))
        # The second factor (factors.py).
        self.set_pending = sa.update(table).where(*in_account).values(factor_pending=_p("pending"))
        self.take_pending = (
            sa.update(table)
            .where(*in_account, c.factor_pending == _p("pending"))
            .values(factor_pending=sa.null())
        )
        self.enrol = (
            sa.update(table)
            .where(*in_account, c.totp_secret.is_(None))
            .values(
                totp_secret=_p("secret"),
                totp_last_step=_p("step"),
                factor_pending=_p("pending"),
                updated_at=_p("now"),
            )
        )
        # A TOTP code is accepted once: its time step must be later than the last accepted.
        self.accept_step = (
            sa.update(table)
            .where(
                *in_account,
                sa.or_(c.totp_last_step.is_(None), c.totp_last_step < _p("step")),
            )
            .values(totp_last_step=_p("step"))
        )
        self.reset_factor = self.new_credentials.values(
            totp_secret=sa.null(),
            totp_last_step=sa.null(),
            factor_pending=sa.null(),
            updated_at=_p("now"),
        )
        owner = codes.c[id_column]
        self.delete_codes = sa.delete(codes).where(owner == _p("id"))
        self.insert_code = sa.insert(codes).values({id_column: _p("id"), "code_hash": _p("hash")})
        # A recovery code works once: the one statement that finds it also removes it.
        self.use_code = sa.delete(codes).where(owner == _p("id"), codes.c.code_hash == _p("hash"))
        self.codes_left = Query(
            sa.select(sa.func.count().label("codes")).where(owner == _p("id")), CodesRow
        )
        self.required = Query(
            sa.select(required.label("required")).where(accounts.c.id == _p("account_id")),
            RequiredRow,
        )


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of person: `name` is also whose links a one-time token names; `site` is the
    first part of its pages' addresses (`/portal/acme/reset`)."""

    name: str
    site: str
    statements: Statements


CUSTOMER = Kind(
    "customer",
    "portal",
    Statements(
        fulfilment_customers,
        "idfulfilment_customer",
        "can_login",
        customer_recovery_codes,
        accounts.c.require_portal_2fa,
    ),
)
STAFF = Kind(
    "staff",
    "admin",
    Statements(staff_users, "iduser", "active", staff_recovery_codes, accounts.c.require_staff_2fa),
)
KINDS = {kind.name: kind for kind in (CUSTOMER, STAFF)}
