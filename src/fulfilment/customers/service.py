"""The rules of the fulfilment customers resource: validation, creation, updates, reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from msgspec import UNSET

from ..auth import Principal
from ..db import Connection, Database, Row, utcnow
from ..errors import CustomerNotFound, InvalidInput, UsernameTaken
from ..fields import check_email, check_username, username_key
from ..passwords import hash_password
from ..wire import PAGE_SIZE, format_datetime
from . import audit, queries
from .schemas import Customer, CustomerCreate, CustomerListItem, CustomerUpdate

_profiles = msgspec.json.Decoder(list[int])


def to_customer(row: Row, timezone: ZoneInfo) -> Customer:
    """A customer row as the wire's Customer."""
    return Customer(
        idfulfilment_customer=row[0],
        name=row[1],
        can_login=bool(row[2]),
        username=row[3],
        emailaddress=row[4],
        language=row[5],
        idtemplate=row[6],
        last_login_at=format_datetime(row[7], timezone),
        allowed_shipping_profiles=_profiles.decode(row[8]),
        preferred_idwarehouse=row[9],
    )


def to_list_item(row: Row, timezone: ZoneInfo) -> CustomerListItem:
    """A customer row as one item of the wire's customer list."""
    return CustomerListItem(
        idfulfilment_customer=row[0],
        name=row[1],
        can_login=bool(row[2]),
        username=row[3],
        emailaddress=row[4],
        language=row[5],
        idtemplate=row[6],
        last_login_at=format_datetime(row[7], timezone),
        preferred_idwarehouse=row[8],
    )


# -- reading ------------------------------------------------------------------------------


async def get_customer(
    database: Database, principal: Principal, customer_id: int | None
) -> Customer:
    """One of the account's customers; CustomerNotFound otherwise."""
    if customer_id is None:
        raise CustomerNotFound(0)
    key = {"account_id": principal.account_id, "id": customer_id}
    row = await database.read(lambda c: c.one(queries.GET_ONE, key))
    if row is None:
        raise CustomerNotFound(customer_id)
    return to_customer(row, principal.timezone)


def search_pattern(term: str) -> str:
    """A LIKE pattern for a part of a field."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_phrase(term: str) -> str:
    """An FTS5 query for a part of a field: one phrase, which the trigram tokenizer
    matches as a substring of a single column."""
    return '"' + term.replace('"', '""') + '"'


# The trigram index serves terms of at least this many characters.
TRIGRAM = 3


async def list_customers(
    database: Database, principal: Principal, offset: int, search: str | None
) -> list[CustomerListItem]:
    """One page of the account's customers, filtered by `search` when given."""
    values: dict[str, Any] = {
        "account_id": principal.account_id,
        "offset": offset,
        "limit": PAGE_SIZE,
    }
    if not search:
        rows = await database.read(lambda c: c.all(queries.PAGE, values))
    else:
        term = search.casefold()
        if database.is_sqlite and len(term) >= TRIGRAM:
            values["phrase"] = search_phrase(term)
            statement = queries.SEARCH_INDEXED
        else:
            values["pattern"] = search_pattern(term)
            statement = queries.SEARCH_PAGE
        rows = await database.read(
            lambda c: c.all(statement, values), heavy_for=principal.account_id
        )
    timezone = principal.timezone
    return [to_list_item(row, timezone) for row in rows]


# -- validating ---------------------------------------------------------------------------


def _text(field: str, value: str) -> str:
    """Refuse strings a database cannot store: lone surrogates and NUL characters."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{field} contains characters that are not valid Unicode.") from None
    if "\x00" in value:
        raise InvalidInput(f"{field} may not contain NUL characters.")
    return value


def clean_name(name: str) -> str:
    """The name, checked: not empty, at most 255 characters, storable."""
    name = _text("name", name).strip()
    if not name:
        raise InvalidInput("name may not be empty.")
    if len(name) > 255:
        raise InvalidInput("name must be at most 255 characters.")
    return name


def clean_username(username: str | None) -> str | None:
    """The username, checked against the username rules; None stays None."""
    if username is None:
        return None
    _text("username", username)
    try:
        return check_username(username)
    except ValueError as problem:
        raise InvalidInput(f"username {problem}.") from None


def clean_email(emailaddress: str | None) -> str | None:
    """The e-mail address, checked against the address rules; None stays None."""
    if emailaddress is None:
        return None
    _text("emailaddress", emailaddress)
    try:
        return check_email(emailaddress)
    except ValueError as problem:
        raise InvalidInput(f"emailaddress {problem}.") from None


def clean_password(password: str) -> str:
    """The password, checked that a database can store it."""
    return _text("password", password)


def unique_in_order(ids: list[int]) -> list[int]:
    """`ids` without repeats, in their first order."""
    return list(dict.fromkeys(ids))


def require_login_details(can_login: bool, username: str | None, has_password: bool) -> None:
    """A customer that may log in needs something to log in with."""
    if can_login and username is None:
        raise InvalidInput("username is required when can_login is true.")
    if can_login and not has_password:
        raise InvalidInput("password is required when can_login is true.")


@dataclass(slots=True)
class Fields:
    """A customer's writable state, as stored."""

    name: str
    can_login: bool
    username: str | None
    password_hash: str | None
    emailaddress: str | None
    language: str
    idtemplate: int | None
    allowed_shipping_profiles: list[int]
    preferred_idwarehouse: int | None
    credentials_version: int = 0

    def audited(self) -> dict[str, Any]:
        """What the audit trail compares; the hash stands in for the password and is
        never written out (see audit.changes)."""
        return {
            "name": self.name,
            "can_login": self.can_login,
            "username": self.username,
            "password": self.password_hash,
            "emailaddress": self.emailaddress,
            "language": self.language,
            "idtemplate": self.idtemplate,
            "allowed_shipping_profiles": self.allowed_shipping_profiles,
            "preferred_idwarehouse": self.preferred_idwarehouse,
        }

    def check_login(self) -> None:
        require_login_details(self.can_login, self.username, self.password_hash is not None)

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "can_login": self.can_login,
            "username": self.username,
            "username_key": username_key(self.username) if self.username is not None else None,
            "password_hash": self.password_hash,
            "emailaddress": self.emailaddress,
            "language": self.language,
            "idtemplate": self.idtemplate,
            "allowed_shipping_profiles": msgspec.json.encode(
                self.allowed_shipping_profiles
            ).decode(),
            "preferred_idwarehouse": self.preferred_idwarehouse,
            "search_name": self.name.casefold(),
            "search_username": (self.username or "").casefold(),
            "search_email": (self.emailaddress or "").casefold(),
            "credentials_version": self.credentials_version,
            "updated_at": utcnow(),
        }


async def _check_references(
    connection: Connection,
    account_id: int,
    idtemplate: int | None,
    preferred_idwarehouse: int | None,
    allowed_shipping_profiles: list[int] | None,
) -> None:
    if (
        idtemplate is not None
        and await connection.one(
            queries.TEMPLATE_EXISTS, {"account_id": account_id, "id": idtemplate}
        )
        is None
    ):
        raise InvalidInput(f"idtemplate {idtemplate} is not a template of this account.")
    if (
        preferred_idwarehouse is not None
        and await connection.one(
            queries.WAREHOUSE_EXISTS, {"account_id": account_id, "id": preferred_idwarehouse}
        )
        is None
    ):
        raise InvalidInput(
            f"preferred_idwarehouse {preferred_idwarehouse} is not a warehouse of this account.",
        )
    if allowed_shipping_profiles:
        known = {
            row[0]
            for row in await connection.all(queries.ACCOUNT_PROFILES, {"account_id": account_id})
        }
        for profile in allowed_shipping_profiles:
            if profile not in known:
                raise InvalidInput(
                    f"allowed_shipping_profiles: {profile} is not a shipping profile "
                    "of this account.",
                )


async def _check_username_free(
    connection: Connection, account_id: int, username: str | None, customer_id: int | None
) -> None:
    if username is None:
        return
    owner = await connection.one(
        queries.USERNAME_OWNER, {"account_id": account_id, "username_key": username_key(username)}
    )
    if owner is not None and owner[0] != customer_id:
        raise UsernameTaken(username)


# -- writing ------------------------------------------------------------------------------


async def create_customer(
    database: Database, principal: Principal, body: CustomerCreate
) -> Customer:
    """Create a customer in the principal's account and return it."""
    password = clean_password(body.password) if body.password is not UNSET else None
    fields = Fields(
        name=clean_name(body.name),
        can_login=body.can_login,
        username=clean_username(body.username),
        password_hash=None,
        emailaddress=clean_email(body.emailaddress),
        language=body.language,
        idtemplate=body.idtemplate,
        allowed_shipping_profiles=unique_in_order(body.allowed_shipping_profiles),
        preferred_idwarehouse=body.preferred_idwarehouse,
    )
    require_login_details(fields.can_login, fields.username, password is not None)
    if password is not None:
        fields.password_hash = await hash_password(password)
    account_id = principal.account_id

    async def insert(connection: Connection) -> Row:
        await _check_references(
            connection,
            account_id,
            fields.idtemplate,
            fields.preferred_idwarehouse,
            fields.allowed_shipping_profiles,
        )
        await _check_username_free(connection, account_id, fields.username, None)
        actor = audit.Actor.api_key(principal)
        changed = audit.changes({}, fields.audited())
        values = {**fields.values(), "account_id": account_id}
        try:
            if not database.is_sqlite:
                values.update(actor_type=actor.type, actor_id=actor.id, actor_name=actor.name)
                values["changes"] = audit.encode(changed)
                row = await connection.one(queries.INSERT_AUDITED, values)
                assert row is not None
                return row
            position = await connection.one(queries.NEXT_POSITION, {"account_id": account_id})
            assert position is not None
            row = await connection.one(queries.INSERT, {**values, "position": position[0]})
        except database.IntegrityError:
            # Another request took the username between our check and the insert.
            raise UsernameTaken(fields.username or "") from None
        assert row is not None
        await audit.record(connection, account_id, row[0], "create", actor, changed)
        return row

    return to_customer(await database.write(insert), principal.timezone)


async def update_customer(
    database: Database, principal: Principal, customer_id: int | None, body: CustomerUpdate
) -> Customer:
    """Apply the fields the body carries to a customer and return it."""
    if customer_id is None:
        raise CustomerNotFound(0)
    name = clean_name(body.name) if body.name is not UNSET else UNSET
    username = clean_username(body.username) if body.username is not UNSET else UNSET
    emailaddress = clean_email(body.emailaddress) if body.emailaddress is not UNSET else UNSET
    profiles = (
        unique_in_order(body.allowed_shipping_profiles)
        if body.allowed_shipping_profiles is not UNSET
        else UNSET
    )
    password_hash = (
        await hash_password(clean_password(body.password)) if body.password is not UNSET else UNSET
    )
    account_id = principal.account_id
    key = {"account_id": account_id, "id": customer_id}

    async def update(connection: Connection) -> Row:
        current = await connection.one(queries.GET_FOR_UPDATE, key)
        if current is None:
            raise CustomerNotFound(customer_id)
        fields = Fields(
            name=current[0],
            can_login=bool(current[1]),
            username=current[2],
            password_hash=current[3],
            emailaddress=current[4],
            language=current[5],
            idtemplate=current[6],
            allowed_shipping_profiles=_profiles.decode(current[7]),
            preferred_idwarehouse=current[8],
            credentials_version=current[9],
        )
        was_allowed = fields.can_login
        before = fields.audited()
        if name is not UNSET:
            fields.name = name
        if body.can_login is not UNSET:
            fields.can_login = body.can_login
        if username is not UNSET:
            fields.username = username
        if password_hash is not UNSET:
            fields.password_hash = password_hash
        if emailaddress is not UNSET:
            fields.emailaddress = emailaddress
        if body.language is not UNSET:
            fields.language = body.language
        if body.idtemplate is not UNSET:
            fields.idtemplate = body.idtemplate
        if profiles is not UNSET:
            fields.allowed_shipping_profiles = profiles
        if body.preferred_idwarehouse is not UNSET:
            fields.preferred_idwarehouse = body.preferred_idwarehouse
        fields.check_login()
        await _check_references(
            connection,
            account_id,
            fields.idtemplate if body.idtemplate is not UNSET else None,
            fields.preferred_idwarehouse if body.preferred_idwarehouse is not UNSET else None,
            profiles if profiles is not UNSET else None,
        )
        if username is not UNSET and username is not None:
            await _check_username_free(connection, account_id, username, customer_id)
        if password_hash is not UNSET or (was_allowed and not fields.can_login):
            # Portal sessions carry this number; a new one ends them.
            fields.credentials_version += 1
        try:
            row = await connection.one(queries.UPDATE, {**fields.values(), **key})
        except database.IntegrityError:
            raise UsernameTaken(fields.username or "") from None
        changed = audit.changes(before, fields.audited())
        if changed:
            await audit.record(
                connection,
                account_id,
                customer_id,
                "update",
                audit.Actor.api_key(principal),
                changed,
            )
        assert row is not None
        return row

    return to_customer(await database.write(update), principal.timezone)


# -- the customer's own changes, through the portal ----------------------------------------


async def record_login(
    database: Database, account_id: int, customer_id: int, username: str
) -> None:
    """Set the customer's last login and record it in the audit trail."""
    key = {"account_id": account_id, "id": customer_id}
    if not database.is_sqlite:
        values = {**key, "last_login_at": utcnow(), "actor_name": username}
        await database.write_statement(queries.RECORD_LOGIN, values)
        return

    async def record(connection: Connection) -> None:
        await connection.execute(queries.SET_LAST_LOGIN, {**key, "last_login_at": utcnow()})
        await audit.record(
            connection,
            account_id,
            customer_id,
            "login",
            audit.Actor.portal(customer_id, username),
            {},
        )

    await database.write(record)


async def set_own_password(
    database: Database,
    account_id: int,
    customer_id: int,
    version: int,
    username: str,
    password_hash: str,
) -> bool:
    """Set a new password for a customer whose session (credentials `version`) is still
    current, ending its other sessions; False when it is not."""
    values = {
        "account_id": account_id,
        "id": customer_id,
        "version": version,
        "password_hash": password_hash,
        "updated_at": utcnow(),
    }

    async def change(connection: Connection) -> bool:
        if await connection.execute(queries.SET_OWN_PASSWORD, values) != 1:
            return False
        await audit.record(
            connection,
            account_id,
            customer_id,
            "update",
            audit.Actor.portal(customer_id, username),
            {"password": audit.PASSWORD_CHANGED},
        )
        return True

    return await database.write(change)


async def end_sessions(database: Database, account_id: int, customer_id: int, version: int) -> None:
    """End every portal session of the customer that has credentials `version`."""
    key = {"account_id": account_id, "id": customer_id, "version": version}
    await database.write_statement(queries.END_SESSIONS, key)


# -- the customer's own changes, through a link sent by mail -------------------------------


async def set_password_from_link(
    connection: Connection,
    account_id: int,
    customer_id: int,
    sent_to: str,
    password_hash: str,
    allow_login: bool,
) -> str | None:
    """Set a new password for the customer a link went to, ending every session of it, in
    the caller's transaction; with `allow_login` (an invitation) it may log in from now on.
    Returns the username; None when the link no longer fits (the address changed since, or
    the customer may not log in or has no username)."""
    key = {"account_id": account_id, "id": customer_id}
    current = await connection.one(queries.GET_FOR_UPDATE, key)
    if current is None or current[2] is None or current[4] is None:
        return None
    could_login, username, emailaddress = bool(current[1]), current[2], current[4]
    if emailaddress.casefold() != sent_to.casefold() or not (could_login or allow_login):
        return None
    values = {**key, "password_hash": password_hash, "can_login": True, "updated_at": utcnow()}
    await connection.execute(queries.SET_PASSWORD_FROM_LINK, values)
    changed: dict[str, Any] = {"password": audit.PASSWORD_CHANGED}
    if not could_login:
        changed["can_login"] = {"from": False, "to": True}
    actor = audit.Actor.portal(customer_id, username)
    await audit.record(connection, account_id, customer_id, "update", actor, changed)
    return str(username)


async def set_email_from_link(
    connection: Connection, account_id: int, customer_id: int, emailaddress: str
) -> tuple[str, str | None, str] | None:
    """Set the e-mail address a link confirmed, in the caller's transaction. Returns the
    username, the address before and the customer's language; None when it is gone."""
    key = {"account_id": account_id, "id": customer_id}
    current = await connection.one(queries.GET_FOR_UPDATE, key)
    if current is None or current[2] is None:
        return None
    username, before = current[2], current[4]
    values = {
        **key,
        "emailaddress": emailaddress,
        "search_email": emailaddress.casefold(),
        "updated_at": utcnow(),
    }
    await connection.execute(queries.SET_EMAIL, values)
    changed = audit.changes({"emailaddress": before}, {"emailaddress": emailaddress})
    if changed:
        actor = audit.Actor.portal(customer_id, username)
        await audit.record(connection, account_id, customer_id, "update", actor, changed)
    return str(username), before, str(current[5])
