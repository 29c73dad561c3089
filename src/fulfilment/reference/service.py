"""Reading reference data (API) and creating it (command line)."""

from __future__ import annotations

from collections import defaultdict

from ..auth import Principal
from ..db import Connection, Database
from ..errors import InvalidInput, NotFound
from ..wire import PAGE_SIZE
from . import queries
from .schemas import ShippingProfile, ShippingProvider, Template, Warehouse


def _warehouse(row: queries.WarehouseRow) -> Warehouse:
    return Warehouse(
        idwarehouse=row.idwarehouse,
        name=row.name,
        accept_orders=bool(row.accept_orders),
        counts_for_general_stock=bool(row.counts_for_general_stock),
        priority=row.priority,
        active=bool(row.active),
    )


def _template(row: queries.TemplateRow) -> Template:
    return Template(idtemplate=row.idtemplate, name=row.name, default=bool(row.is_default))


def _profile(row: queries.ProfileRow | queries.ProviderProfileRow) -> ShippingProfile:
    return ShippingProfile(
        idshippingprovider_profile=row.idshippingprovider_profile,
        name=row.name,
        active=bool(row.active),
    )


def _provider(row: queries.ProviderRow, profiles: list[ShippingProfile]) -> ShippingProvider:
    return ShippingProvider(
        idshippingprovider=row.idshippingprovider,
        name=row.name,
        provider=row.provider,
        active=bool(row.active),
        profiles=profiles,
    )


def _page(principal: Principal, offset: int) -> dict[str, int]:
    return {"account_id": principal.account_id, "offset": offset, "limit": PAGE_SIZE}


async def list_warehouses(database: Database, principal: Principal, offset: int) -> list[Warehouse]:
    """One page of the account's warehouses."""
    rows = await database.read(lambda c: c.all(queries.WAREHOUSE_PAGE, _page(principal, offset)))
    return [_warehouse(row) for row in rows]


async def get_warehouse(
    database: Database, principal: Principal, warehouse_id: int | None
) -> Warehouse:
    """One of the account's warehouses; NotFound when it is not the account's."""
    row = None
    if warehouse_id is not None:
        key = {"account_id": principal.account_id, "id": warehouse_id}
        row = await database.read(lambda c: c.one(queries.WAREHOUSE_ONE, key))
    if row is None:
        raise NotFound(f"Warehouse {warehouse_id or 0} not found.")
    return _warehouse(row)


async def list_templates(database: Database, principal: Principal, offset: int) -> list[Template]:
    """One page of the account's templates."""
    rows = await database.read(lambda c: c.all(queries.TEMPLATE_PAGE, _page(principal, offset)))
    return [_template(row) for row in rows]


async def list_shipping_providers(
    database: Database, principal: Principal, offset: int
) -> list[ShippingProvider]:
    """One page of the account's shipping providers, with their profiles."""

    async def read(
        connection: Connection,
    ) -> tuple[list[queries.ProviderRow], list[queries.ProviderProfileRow]]:
        providers = await connection.all(queries.PROVIDER_PAGE, _page(principal, offset))
        if not providers:
            return providers, []
        bounds = {
            "account_id": principal.account_id,
            "first": providers[0].idshippingprovider,
            "last": providers[-1].idshippingprovider,
        }
        return providers, await connection.all(queries.PROFILES_OF_PROVIDERS, bounds)

    providers, profile_rows = await database.read(read)
    profiles: dict[int, list[ShippingProfile]] = defaultdict(list)
    for row in profile_rows:
        profiles[row.idshippingprovider].append(_profile(row))
    return [_provider(row, profiles.get(row.idshippingprovider, [])) for row in providers]


# -- creating, from the command line ------------------------------------------------------


def _required(field: str, value: str) -> str:
    value = value.strip()
    if not value or len(value) > 255:
        raise InvalidInput(f"{field} must be 1-255 characters.")
    return value


async def create_warehouse(
    connection: Connection,
    account_id: int,
    name: str,
    *,
    accept_orders: bool = True,
    counts_for_general_stock: bool = True,
    priority: int = 0,
    active: bool = True,
) -> Warehouse:
    """Create a warehouse in the account."""
    row = await connection.one(
        queries.INSERT_WAREHOUSE,
        {
            "account_id": account_id,
            "name": _required("name", name),
            "accept_orders": accept_orders,
            "counts_for_general_stock": counts_for_general_stock,
            "priority": priority,
            "active": active,
        },
    )
    assert row is not None
    return _warehouse(row)


async def create_template(
    connection: Connection, account_id: int, name: str, *, default: bool = False
) -> Template:
    """Create a template in the account, its default if `default`."""
    if default:
        await connection.execute(queries.UNSET_DEFAULT_TEMPLATE, {"account_id": account_id})
    row = await connection.one(
        queries.INSERT_TEMPLATE,
        {"account_id": account_id, "name": _required("name", name), "is_default": default},
    )
    assert row is not None
    return _template(row)


async def create_shipping_provider(
    connection: Connection, account_id: int, name: str, provider: str, profiles: list[str]
) -> ShippingProvider:
    """Create a shipping provider in the account with its profiles."""
    row = await connection.one(
        queries.INSERT_PROVIDER,
        {
            "account_id": account_id,
            "name": _required("name", name),
            "provider": _required("provider", provider),
            "active": True,
        },
    )
    assert row is not None
    created = [
        await connection.one(
            queries.INSERT_PROFILE,
            {
                "account_id": account_id,
                "idshippingprovider": row.idshippingprovider,
                "name": _required("profile", profile),
                "active": True,
            },
        )
        for profile in profiles
    ]
    return _provider(row, [_profile(profile) for profile in created if profile is not None])
