"""What the customers service checks beyond the structs' limits: storable text, the
username and address rules, login details, and ids that name the account's objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from msgspec import UNSET

from ..db import Connection
from ..errors import InvalidInput, UsernameTaken, storable
from ..fields import NAME_MAX, WRITABLE_FIELDS, check_email, check_username, username_key
from . import queries
from .schemas import CustomerCreate, CustomerUpdate


def clean_name(name: str) -> str:
    """The name, checked: not empty, at most NAME_MAX characters, storable."""
    name = storable("name", name).strip()
    if not name:
        raise InvalidInput("name may not be empty.")
    if len(name) > NAME_MAX:
        raise InvalidInput(f"name must be at most {NAME_MAX} characters.")
    return name


def _checked(field: str, value: str | None, check: Callable[[str], str]) -> str | None:
    """`value` when it is storable and passes `check` (fields.py's rule); None stays None."""
    if value is None:
        return None
    storable(field, value)
    try:
        return check(value)
    except ValueError as problem:
        raise InvalidInput(f"{field} {problem}.") from None


def clean_username(username: str | None) -> str | None:
    """The username, checked against the username rules; None stays None."""
    return _checked("username", username, check_username)


def clean_email(emailaddress: str | None) -> str | None:
    """The e-mail address, checked against the address rules; None stays None."""
    return _checked("emailaddress", emailaddress, check_email)


def clean_password(password: str) -> str:
    """The password, checked that a database can store it."""
    return storable("password", password)


def unique_in_order(ids: list[int]) -> list[int]:
    """`ids` without repeats, in their first order."""
    return list(dict.fromkeys(ids))


def require_login_details(can_login: bool, username: str | None, has_password: bool) -> None:
    """A customer that may log in needs something to log in with."""
    if can_login and username is None:
        raise InvalidInput("username is required when can_login is true.")
    if can_login and not has_password:
        raise InvalidInput("password is required when can_login is true.")


# What the service checks beyond the structs' limits, by kind: (field name, value) -> the
# value to store. Other kinds are stored as sent; the password is hashed by the writers.
_CLEAN: dict[str, Callable[[str, Any], Any]] = {
    "name": lambda _, name: clean_name(name),
    "username": lambda _, username: clean_username(username),
    "email": lambda _, emailaddress: clean_email(emailaddress),
    "text": lambda field, text: _checked(field, text, str),
    "references": lambda _, ids: unique_in_order(ids),
}
_CLEANED = tuple(
    (field.name, _CLEAN.get(field.kind)) for field in WRITABLE_FIELDS if not field.write_only
)


def cleaned(body: CustomerCreate | CustomerUpdate) -> dict[str, Any]:
    """The fields the body carries (a create: all of them), checked, in table order."""
    sent: dict[str, Any] = {}
    for name, clean in _CLEANED:
        value = getattr(body, name)
        if value is not UNSET:
            sent[name] = value if clean is None else clean(name, value)
    return sent


# Checked against the account's objects: single ids first, then lists, each in table order.
_REFERENCES = tuple(field for field in WRITABLE_FIELDS if field.kind == "reference")
_REFERENCE_LISTS = tuple(field for field in WRITABLE_FIELDS if field.kind == "references")
_EXISTS = {"template": queries.TEMPLATE_EXISTS, "warehouse": queries.WAREHOUSE_EXISTS}
_ACCOUNT_IDS = {"shipping profile": queries.ACCOUNT_PROFILES}


async def check_references(connection: Connection, account_id: int, sent: dict[str, Any]) -> None:
    """Refuse ids among the `sent` fields that name no object of the account."""
    for field in _REFERENCES:
        value = sent.get(field.name)
        if value is None:
            continue
        assert field.refers_to is not None
        found = await connection.one(
            _EXISTS[field.refers_to], {"account_id": account_id, "id": value}
        )
        if found is None:
            raise InvalidInput(f"{field.name} {value} is not a {field.refers_to} of this account.")
    for field in _REFERENCE_LISTS:
        ids = sent.get(field.name)
        if not ids:
            continue
        assert field.refers_to is not None
        rows = await connection.all(_ACCOUNT_IDS[field.refers_to], {"account_id": account_id})
        known = {row.idshippingprovider_profile for row in rows}
        for value in ids:
            if value not in known:
                raise InvalidInput(
                    f"{field.name} {value} is not a {field.refers_to} of this account."
                )


async def check_username_free(
    connection: Connection, account_id: int, username: str | None, customer_id: int | None
) -> None:
    if username is None:
        return
    owner = await connection.one(
        queries.USERNAME_OWNER, {"account_id": account_id, "username_key": username_key(username)}
    )
    if owner is not None and owner.idfulfilment_customer != customer_id:
        raise UsernameTaken(username)
