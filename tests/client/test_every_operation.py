"""The client covers the whole API: every operation of the OpenAPI document has a method,
and each is run here against the real app in process, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest
from starlette.applications import Starlette

from fulfilment.app import create_app
from fulfilment.client import AsyncClient, AuditEvent, NotFound, User
from fulfilment.db import Database
from fulfilment.passwords import hash_password_sync
from fulfilment.settings import Settings
from fulfilment.staff import service as staff
from tests.factories import Tenant

pytestmark = pytest.mark.anyio
URL = "http://127.0.0.1/api/v1/"
RECEIVER = "http://127.0.0.1:9/hooks"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, rate_limit="off", hooks_allow_private=True)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    app = create_app(settings)
    yield app
    app.state.database.close()


def _staff_key(database: Database, tenant: Tenant) -> tuple[User, str]:
    """A staff user, and an API key that user made (as the back office makes them)."""

    async def build(connection: Any) -> tuple[Any, str]:
        new = staff.NewUser(
            username="anna", emailaddress="anna@acme.example", firstname="Anna", admin=True
        )
        user = await staff.create_user(
            connection, tenant.account, new.checked(), hash_password_sync("a-long-password")
        )
        _, key = await staff.create_api_key_by(
            connection, tenant.account, (user.iduser, user.username), "anna's"
        )
        return user, key

    server_user, key = database.write_sync(build)
    return msgspec.convert(msgspec.to_builtins(server_user), User), key


async def test_every_operation_of_the_api_has_a_client_method(
    app: Starlette, tenant: Tenant, database: Database
) -> None:
    user, key = _staff_key(database, tenant)
    ran: set[str] = set()
    transport = httpx.ASGITransport(app)
    async with AsyncClient(URL, api_key=key, transport=transport) as api:
        document = (await api.request("GET", "openapi.json")).json()

        created = await api.customers.create(name="Acme", language="en")
        ran.add("createFulfilmentCustomer")
        number = created.idfulfilment_customer
        assert await api.customers.get(number) == created
        ran.add("getFulfilmentCustomer")
        changed = await api.customers.update(number, name="Acme BV")
        ran.add("updateFulfilmentCustomer")
        assert [item.name async for item in api.customers.list()] == ["Acme BV"]
        ran.add("listFulfilmentCustomers")
        history = [event async for event in api.customers.history(number)]
        ran.add("getFulfilmentCustomerHistory")
        assert [event.action for event in history] == ["create", "update"]
        assert all(isinstance(event, AuditEvent) for event in history)
        assert history[1].changes == {"name": {"from": "Acme", "to": changed.name}}
        assert (history[1].actor.type, history[1].actor.name) == ("api_key", "anna's")
        with pytest.raises(NotFound):
            [event async for event in api.customers.history(number + 1000)]

        assert [w.idwarehouse async for w in api.warehouses.list()] == [tenant.warehouse]
        ran.add("listWarehouses")
        assert (await api.warehouses.get(tenant.warehouse)).idwarehouse == tenant.warehouse
        ran.add("getWarehouse")
        assert [t.idtemplate async for t in api.templates.list()] == [tenant.template]
        ran.add("listTemplates")
        assert [p.name async for p in api.shipping_providers.list()] == ["PostNL"]
        ran.add("listShippingProviders")

        assert [u async for u in api.users.list()] == [user]
        ran.add("listUsers")
        assert [u async for u in api.users.list(active=False)] == []
        assert [u async for u in api.users.list(active=True)] == [user]
        assert await api.users.get(user.iduser) == user
        ran.add("getUser")
        assert await api.users.me() == user
        ran.add("getCurrentUser")
        with pytest.raises(NotFound):
            await api.users.get(user.iduser + 1000)

        hook = await api.hooks.create("Sync", "fulfilment_customers.changed", RECEIVER)
        ran.add("createHook")
        assert await api.hooks.get(hook.idhook) == hook
        ran.add("getHook")
        assert [h.idhook async for h in api.hooks.list()] == [hook.idhook]
        ran.add("listHooks")
        assert (await api.hooks.update(hook.idhook, name="Renamed")).name == "Renamed"
        ran.add("updateHook")
        assert (await api.hooks.delete(hook.idhook)).active is False
        ran.add("deleteHook")
        assert (await api.hooks.reactivate(hook.idhook)).active is True
        ran.add("reactivateHook")
        await api.hooks.test(hook.idhook)
        ran.add("testHook")
        deliveries = [d async for d in api.hooks.deliveries(hook.idhook)]
        ran.add("listHookDeliveries")
        assert [d.event for d in deliveries] == ["ping"]

    operations = {
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method != "parameters"
    }
    assert ran == operations


async def test_me_is_not_found_for_a_key_made_on_the_command_line(
    app: Starlette, tenant: Tenant
) -> None:
    transport = httpx.ASGITransport(app)
    async with AsyncClient(URL, api_key=tenant.key, transport=transport) as api:
        with pytest.raises(NotFound):
            await api.users.me()
