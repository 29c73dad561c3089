"""The rules of hooks: creating, changing, (de)activating and reading them, and the log of
their deliveries."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from msgspec import UNSET

from ..accounts import audit
from ..actors import Actor
from ..auth import Principal
from ..clock import utcnow
from ..db import Connection, Database
from ..encryption import SecretBox
from ..errors import HookAddressTaken, HookLimitReached, HookNotFound, InvalidInput, storable
from ..wire import PAGE_SIZE, format_datetime
from . import addresses, queries
from .schemas import Hook, HookAttempt, HookCreate, HookDelivery, HookUpdate


def to_hook(row: queries.HookRow, timezone: ZoneInfo) -> Hook:
    return Hook(
        idhook=row.idhook,
        name=row.name,
        event=row.event,
        address=row.address,
        active=bool(row.active),
        secret=row.secret is not None,
        created_at=format_datetime(row.created_at, timezone) or "",
        updated_at=format_datetime(row.updated_at, timezone) or "",
    )


def webhook_id(iddelivery: int) -> str:
    """The `webhook-id` of every attempt of one delivery."""
    return f"msg_{iddelivery}"


def clean_name(name: str) -> str:
    name = storable("name", name).strip()
    if not name:
        raise InvalidInput("name may not be empty.")
    return name


async def clean_address(address: str, allow_private: bool) -> str:
    """The address, checked against SSRF (see addresses.py); its host resolved off the
    event loop."""
    address = storable("address", address).strip()
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
    if same is not None and same.idhook != idhook:
        raise HookAddressTaken(values["event"], same.idhook)


async def address_in_use(
    database: Database, principal: Principal, event: str, address: str, idhook: int | None
) -> bool:
    """Whether another hook of the account already sends `event` to `address`."""
    values = {"account_id": principal.account_id, "event": event, "address": address}
    same = await database.read(lambda connection: connection.one(queries.SAME_ADDRESS, values))
    return same is not None and same.idhook != idhook


async def _room_for_one_more(connection: Connection, account_id: int, limit: int) -> None:
    """HookLimitReached when the account already has `limit` active hooks."""
    await connection.one(queries.LOCK_ACCOUNT, {"account_id": account_id})
    count = await connection.one(queries.ACTIVE_COUNT, {"account_id": account_id})
    if count is not None and count.active_hooks >= limit:
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
        "secret": box.seal(storable("secret", body.secret)) if body.secret is not None else None,
        "now": utcnow(),
    }

    async def insert(connection: Connection) -> queries.HookRow:
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
            connection, principal.account_id, Actor.api_key(principal), "hook", row.idhook,
            row.name, "create", changes,
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
        secret = box.seal(storable("secret", body.secret)) if body.secret is not None else None

    async def update(connection: Connection) -> queries.HookRow:
        current = await connection.one(queries.FOR_UPDATE, key)
        if current is None:
            raise HookNotFound(key["id"])
        values = {
            **key,
            "name": current.name if name is UNSET else name,
            "address": current.address if address is UNSET else address,
            "secret": current.secret if secret is UNSET else secret,
            "event": current.event,
            "now": utcnow(),
        }
        await _address_free(connection, values, key["id"])
        try:
            row = await connection.one(queries.UPDATE, values)
        except database.IntegrityError:
            raise HookAddressTaken(current.event) from None
        assert row is not None
        changes: dict[str, Any] = {
            field: {"from": before, "to": values[field]}
            for field, before in (("name", current.name), ("address", current.address))
            if before != values[field]
        }
        if current.secret != values["secret"]:
            changes["secret"] = audit.SECRET_CHANGED
        if changes:
            await audit.record(
                connection, principal.account_id, Actor.api_key(principal), "hook", row.idhook,
                row.name, "update", changes,
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

    async def change(connection: Connection) -> queries.HookRow:
        before = await connection.one(queries.GET_ONE, _key(principal, idhook))
        if active and before is not None and not before.active:
            await _room_for_one_more(
                connection, principal.account_id, database.settings.hooks_per_account
            )
        row = await connection.one(queries.SET_ACTIVE, values)
        if before is None or row is None:
            raise HookNotFound(values["id"])
        if bool(before.active) != active:
            await audit.record(
                connection, principal.account_id, Actor.api_key(principal), "hook", row.idhook,
                row.name, "reactivate" if active else "deactivate",
            )  # fmt: skip
        return row

    return to_hook(await database.write(change), principal.timezone)


async def test_hook(database: Database, principal: Principal, idhook: int | None) -> Hook:
    """Send the event `ping` (data `{}`) to an active hook."""
    key = _key(principal, idhook)

    async def ping(connection: Connection) -> queries.HookRow:
        row = await connection.one(queries.GET_ONE, key)
        if row is None:
            raise HookNotFound(key["id"])
        if not row.active:
            raise InvalidInput(f"Hook {key['id']} is not active: reactivate it first.")
        now = utcnow()
        event = await connection.one(queries.PING_EVENT, {**key, "now": now})
        assert event is not None
        await connection.execute(queries.PING, {**key, "now": now, "idevent": event.idevent})
        return row

    return to_hook(await database.write(ping), principal.timezone)


async def deliveries(
    database: Database, principal: Principal, idhook: int | None, offset: int
) -> list[HookDelivery]:
    """A page of the hook's deliveries, newest first, each with its attempts."""
    key = _key(principal, idhook)
    page = {"id": key["id"], "offset": offset, "limit": PAGE_SIZE}

    async def read(
        connection: Connection,
    ) -> tuple[list[queries.DeliveryRow], list[queries.AttemptRow]]:
        if await connection.one(queries.GET_ONE, key) is None:
            raise HookNotFound(key["id"])
        return (
            await connection.all(queries.DELIVERY_PAGE, page),
            await connection.all(queries.ATTEMPTS_OF, page),
        )

    rows, attempt_rows = await database.read(read)
    zone = principal.timezone
    attempts: dict[int, list[HookAttempt]] = defaultdict(list)
    for attempt in attempt_rows:
        attempts[attempt.iddelivery].append(
            HookAttempt(
                attempted_at=format_datetime(attempt.attempted_at, zone) or "",
                status=attempt.status,
                duration_ms=attempt.duration_ms,
                error=attempt.error,
                response=attempt.response,
            )
        )
    return [
        HookDelivery(
            iddelivery=row.iddelivery,
            webhook_id=webhook_id(row.iddelivery),
            event=row.event,
            event_triggered_at=format_datetime(row.triggered_at, zone) or "",
            state=row.state,
            next_attempt_at=(
                format_datetime(row.next_attempt_at, zone) if row.state == "pending" else None
            ),
            attempts=attempts.get(row.iddelivery, []),
        )
        for row in rows
    ]
