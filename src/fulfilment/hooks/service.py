"""The rules of hooks: creating, changing, (de)activating and reading them, and the log of
their deliveries."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from msgspec import UNSET

from ..accounts import audit
from ..auth import Principal
from ..clock import utcnow
from ..customers.audit import Actor
from ..db import Connection, Database, Row
from ..encryption import SecretBox
from ..errors import HookAddressTaken, HookLimitReached, HookNotFound, InvalidInput
from ..wire import PAGE_SIZE, format_datetime
from . import addresses, queries
from .schemas import Hook, HookAttempt, HookCreate, HookDelivery, HookUpdate


def to_hook(row: Row, timezone: ZoneInfo) -> Hook:
    return Hook(
        idhook=row[0],
        name=row[1],
        event=row[2],
        address=row[3],
        active=bool(row[4]),
        secret=row[5] is not None,
        created_at=format_datetime(row[6], timezone) or "",
        updated_at=format_datetime(row[7], timezone) or "",
    )


def webhook_id(iddelivery: int) -> str:
    """The `webhook-id` of every attempt of one delivery."""
    return f"msg_{iddelivery}"


def _text(field: str, value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{field} contains characters that are not valid Unicode.") from None
    if "\x00" in value:
        raise InvalidInput(f"{field} may not contain NUL characters.")
    return value


def clean_name(name: str) -> str:
    name = _text("name", name).strip()
    if not name:
        raise InvalidInput("name may not be empty.")
    return name


async def clean_address(address: str, allow_private: bool) -> str:
    """The address, checked against SSRF (see addresses.py); its host resolved off the
    event loop."""
    address = _text("address", address).strip()
    try:
        await addresses.check(address, allow_private)
    except addresses.AddressRefused as refused:
        raise InvalidInput(f"address is refused: {refused}.") from None
    return address


def _key(principal: Principal, idhook: int | None) -> dict[str, Any]:
    if idhook is None:
        raise HookNotFound(0)
    return {"account_id": principal.account_id, "id": idhook}


async def _address_free(connection: Connection, values: dict[str, Any], idhook: int | None) -> None:
    same = await connection.one(queries.SAME_ADDRESS, values)
    if same is not None and same[0] != idhook:
        raise HookAddressTaken(values["event"], same[0])


async def address_in_use(
    database: Database, principal: Principal, event: str, address: str, idhook: int | None
) -> bool:
    """Whether another hook of the account already sends `event` to `address`."""
    values = {"account_id": principal.account_id, "event": event, "address": address}
    same = await database.read(lambda connection: connection.one(queries.SAME_ADDRESS, values))
    return same is not None and same[0] != idhook


async def _room_for_one_more(connection: Connection, account_id: int, limit: int) -> None:
    """HookLimitReached when the account already has `limit` active hooks."""
    await connection.one(queries.LOCK_ACCOUNT, {"account_id": account_id})
    count = await connection.one(queries.ACTIVE_COUNT, {"account_id": account_id})
    if count is not None and count[0] >= limit:
        raise HookLimitReached(limit)


async def list_hooks(database: Database, principal: Principal, offset: int) -> list[Hook]:
    values = {"account_id": principal.account_id, "offset": offset, "limit": PAGE_SIZE}
    rows = await database.read(lambda c: c.all(queries.PAGE, values))
    return [to_hook(row, principal.timezone) for row in rows]


async def get_hook(database: Database, principal: Principal, idhook: int | None) -> Hook:
    key = _key(principal, idhook)
    row = await database.read(lambda c: c.one(queries.GET_ONE, key))
    if row is None:
        raise HookNotFound(key["id"])
    return to_hook(row, principal.timezone)


async def create_hook(
    database: Database, principal: Principal, body: HookCreate, box: SecretBox
) -> Hook:
    values = {
        "account_id": principal.account_id,
        "name": clean_name(body.name),
        "event": body.event,
        "address": await clean_address(body.address, database.settings.hooks_allow_private),
        "secret": box.seal(_text("secret", body.secret)) if body.secret is not None else None,
        "now": utcnow(),
    }

    async def insert(connection: Connection) -> Row:
        await _room_for_one_more(
            connection, principal.account_id, database.settings.hooks_per_account
        )
        await _address_free(connection, values, None)
        try:
            row = await connection.one(queries.INSERT, values)
        except database.IntegrityError:
            # Another request saved the same hook between the check and the insert.
            raise HookAddressTaken(body.event) from None
        assert row is not None
        changes = {"event": body.event, "address": values["address"]}
        if values["secret"] is not None:
            changes["secret"] = audit.SECRET_CHANGED
        await audit.record(
            connection, principal.account_id, Actor.api_key(principal), "hook", row[0],
            row[1], "create", changes,
        )  # fmt: skip
        return row

    return to_hook(await database.write(insert), principal.timezone)


async def update_hook(
    database: Database,
    principal: Principal,
    idhook: int | None,
    body: HookUpdate,
    box: SecretBox,
) -> Hook:
    key = _key(principal, idhook)
    name = clean_name(body.name) if body.name is not UNSET else UNSET
    address = (
        await clean_address(body.address, database.settings.hooks_allow_private)
        if body.address is not UNSET
        else UNSET
    )
    secret: str | Any | None = UNSET
    if body.secret is not UNSET:
        secret = box.seal(_text("secret", body.secret)) if body.secret is not None else None

    async def update(connection: Connection) -> Row:
        current = await connection.one(queries.FOR_UPDATE, key)
        if current is None:
            raise HookNotFound(key["id"])
        values = {
            **key,
            "name": current[0] if name is UNSET else name,
            "address": current[1] if address is UNSET else address,
            "secret": current[2] if secret is UNSET else secret,
            "event": current[3],
            "now": utcnow(),
        }
        await _address_free(connection, values, key["id"])
        try:
            row = await connection.one(queries.UPDATE, values)
        except database.IntegrityError:
            raise HookAddressTaken(current[3]) from None
        assert row is not None
        changes: dict[str, Any] = {
            field: {"from": current[index], "to": values[field]}
            for index, field in ((0, "name"), (1, "address"))
            if current[index] != values[field]
        }
        if current[2] != values["secret"]:
            changes["secret"] = audit.SECRET_CHANGED
        if changes:
            await audit.record(
                connection, principal.account_id, Actor.api_key(principal), "hook", row[0],
                row[1], "update", changes,
            )  # fmt: skip
        return row

    return to_hook(await database.write(update), principal.timezone)


async def set_active(
    database: Database, principal: Principal, idhook: int | None, active: bool
) -> Hook:
    """Deactivate (DELETE) or reactivate a hook. Deliveries wait while it is inactive."""
    values = {
        **_key(principal, idhook),
        "active": active,
        "because": None if active else "deleted",
        "now": utcnow(),
    }

    async def change(connection: Connection) -> Row:
        before = await connection.one(queries.GET_ONE, _key(principal, idhook))
        if active and before is not None and not before[4]:
            await _room_for_one_more(
                connection, principal.account_id, database.settings.hooks_per_account
            )
        row = await connection.one(queries.SET_ACTIVE, values)
        if before is None or row is None:
            raise HookNotFound(values["id"])
        if bool(before[4]) != active:
            await audit.record(
                connection, principal.account_id, Actor.api_key(principal), "hook", row[0],
                row[1], "reactivate" if active else "deactivate",
            )  # fmt: skip
        return row

    return to_hook(await database.write(change), principal.timezone)


async def test_hook(database: Database, principal: Principal, idhook: int | None) -> Hook:
    """Send the event `ping` (data `{}`) to an active hook."""
    key = _key(principal, idhook)

    async def ping(connection: Connection) -> Row:
        row = await connection.one(queries.GET_ONE, key)
        if row is None:
            raise HookNotFound(key["id"])
        if not row[4]:
            raise InvalidInput(f"Hook {key['id']} is not active: reactivate it first.")
        now = utcnow()
        event = await connection.one(queries.PING_EVENT, {**key, "now": now})
        assert event is not None
        await connection.execute(queries.PING, {**key, "now": now, "idevent": event[0]})
        return row

    return to_hook(await database.write(ping), principal.timezone)


async def deliveries(
    database: Database, principal: Principal, idhook: int | None, offset: int
) -> list[HookDelivery]:
    """A page of the hook's deliveries, newest first, each with its attempts."""
    key = _key(principal, idhook)
    page = {"id": key["id"], "offset": offset, "limit": PAGE_SIZE}

    async def read(connection: Connection) -> tuple[list[Row], list[Row]]:
        if await connection.one(queries.GET_ONE, key) is None:
            raise HookNotFound(key["id"])
        return (
            await connection.all(queries.DELIVERY_PAGE, page),
            await connection.all(queries.ATTEMPTS_OF, page),
        )

    rows, attempt_rows = await database.read(read)
    zone = principal.timezone
    attempts: dict[int, list[HookAttempt]] = defaultdict(list)
    for row in attempt_rows:
        attempts[row[0]].append(
            HookAttempt(
                attempted_at=format_datetime(row[1], zone) or "",
                status=row[2],
                duration_ms=row[3],
                error=row[4],
                response=row[5],
            )
        )
    return [
        HookDelivery(
            iddelivery=row[0],
            webhook_id=webhook_id(row[0]),
            event=row[1],
            event_triggered_at=format_datetime(row[2], zone) or "",
            state=row[3],
            next_attempt_at=format_datetime(row[4], zone) if row[3] == "pending" else None,
            attempts=attempts.get(row[0], []),
        )
        for row in rows
    ]
