"""The asyncio client against the real app in process (httpx's ASGI transport), on SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from fulfilment.accounts import service as accounts
from fulfilment.app import create_app
from fulfilment.client import (
    AsyncClient,
    AuthenticationError,
    BadRequest,
    Customer,
    CustomerCreate,
    CustomerListItem,
    CustomerUpdate,
    Forbidden,
    NotFound,
)
from fulfilment.db import Database
from fulfilment.settings import Settings
from tests.factories import Tenant

pytestmark = pytest.mark.anyio
URL = "http://127.0.0.1/api/v1/"


class CountingTransport(httpx.ASGITransport):
    """The ASGI transport, remembering the offsets of the pages it was asked for."""

    def __init__(self, app: Starlette) -> None:
        super().__init__(app=app)
        self.offsets: list[str | None] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.offsets.append(request.url.params.get("offset"))
        return await super().handle_async_request(request)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    app = create_app(settings)
    yield app
    app.state.database.close()


@pytest.fixture
async def api(app: Starlette, tenant: Tenant) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(URL, api_key=tenant.key, transport=httpx.ASGITransport(app)) as api:
        yield api


async def test_create_get_update_round_trip(api: AsyncClient, tenant: Tenant) -> None:
    created = await api.customers.create(
        name="  Fulfilling Partners ",
        can_login=True,
        username="partners",
        password="ue73hjdf893",
        emailaddress="ops@partners.example",
        language="en",
        idtemplate=tenant.template,
        allowed_shipping_profiles=[tenant.profiles[1], tenant.profiles[0], tenant.profiles[1]],
        preferred_idwarehouse=tenant.warehouse,
    )

    assert isinstance(created, Customer)
    assert created.name == "Fulfilling Partners"
    assert created.allowed_shipping_profiles == [tenant.profiles[1], tenant.profiles[0]]
    assert created.last_login_at is None
    assert await api.customers.get(created.idfulfilment_customer) == created

    updated = await api.customers.update(created.idfulfilment_customer, name="Partners BV")

    assert updated == Customer(**{**_fields(created), "name": "Partners BV"})


async def test_structs_work_as_bodies_and_unset_fields_are_not_sent(
    api: AsyncClient, tenant: Tenant
) -> None:
    created = await api.customers.create(CustomerCreate(name="Acme", emailaddress="a@acme.test"))

    changed = await api.customers.update(
        created.idfulfilment_customer, CustomerUpdate(emailaddress=None)
    )

    assert created.language == "nl"
    assert created.can_login is False
    assert changed.emailaddress is None
    assert changed.name == "Acme"


async def test_list_walks_every_page_lazily(app: Starlette, tenant: Tenant) -> None:
    for number in range(205):
        tenant.create_customer(name=f"Customer {number:03}")
    transport = CountingTransport(app)

    async with AsyncClient(URL, api_key=tenant.key, transport=transport) as api:
        listing = api.customers.list()
        first = await anext(listing)
        assert transport.offsets == ["0"]
        rest = [item async for item in listing]

    names = [first.name, *(item.name for item in rest)]
    assert names == [f"Customer {number:03}" for number in range(205)]
    assert all(isinstance(item, CustomerListItem) for item in rest)
    assert transport.offsets == ["0", "100", "200"]


async def test_a_full_last_page_costs_one_empty_page(app: Starlette, tenant: Tenant) -> None:
    for number in range(100):
        tenant.create_customer(name=f"Customer {number}")
    transport = CountingTransport(app)

    async with AsyncClient(URL, api_key=tenant.key, transport=transport) as api:
        items = [item async for item in api.customers.list()]

    assert len(items) == 100
    assert transport.offsets == ["0", "100"]


async def test_search_and_offset_are_passed_on(api: AsyncClient, tenant: Tenant) -> None:
    tenant.create_customer(name="Alpha Logistics")
    tenant.create_customer(name="Beta Goods", username="beta")
    tenant.create_customer(name="Gamma", emailaddress="info@beta.example")

    found = [item.name async for item in api.customers.list(search="BETA")]
    skipped = [item.name async for item in api.customers.list(offset=1)]

    assert found == ["Beta Goods", "Gamma"]
    assert skipped == ["Beta Goods", "Gamma"]


async def test_errors_carry_status_code_and_message(api: AsyncClient) -> None:
    with pytest.raises(NotFound) as missing:
        await api.customers.get(999999)
    with pytest.raises(BadRequest) as invalid:
        await api.customers.create(name="Acme", language="de")
    with pytest.raises(BadRequest) as no_password:
        await api.customers.create(name="Acme", can_login=True, username="acme")

    assert (missing.value.status, missing.value.error_code) == (404, 20)
    assert missing.value.message == "Fulfilment customer 999999 not found."
    assert (invalid.value.status, invalid.value.error_code) == (400, 5)
    assert "language" in invalid.value.message
    assert "password" in no_password.value.message


async def test_a_wrong_key_raises_authentication_error(app: Starlette, tenant: Tenant) -> None:
    transport = httpx.ASGITransport(app)
    async with AsyncClient(URL, api_key="fk_not-a-key", transport=transport) as api:
        with pytest.raises(AuthenticationError) as raised:
            await api.customers.get(1)

    assert (raised.value.status, raised.value.error_code) == (401, 101)


async def test_a_key_scoped_to_a_customer_raises_forbidden(
    app: Starlette, tenant: Tenant, database: Database
) -> None:
    customer = tenant.create_customer(name="Acme")
    _, scoped = database.write_sync(
        lambda c: accounts.create_api_key(
            c, tenant.account, "scoped", customer["idfulfilment_customer"]
        )
    )

    async with AsyncClient(URL, api_key=scoped, transport=httpx.ASGITransport(app)) as api:
        with pytest.raises(Forbidden) as raised:
            await api.customers.get(customer["idfulfilment_customer"])
        warehouses = [w async for w in api.warehouses.list()]

    assert raised.value.status == 403
    assert [w.idwarehouse for w in warehouses] == [tenant.warehouse]


async def test_reference_data(api: AsyncClient, tenant: Tenant) -> None:
    warehouses = [w async for w in api.warehouses.list()]
    templates = [t async for t in api.templates.list()]
    providers = [p async for p in api.shipping_providers.list()]

    assert [w.idwarehouse for w in warehouses] == [tenant.warehouse]
    assert (await api.warehouses.get(tenant.warehouse)).name == "Main"
    assert [(t.idtemplate, t.default) for t in templates] == [(tenant.template, True)]
    assert [p.name for p in providers] == ["PostNL"]
    assert [p.idshippingprovider_profile for p in providers[0].profiles] == tenant.profiles


async def test_a_client_built_from_the_account_name_uses_its_subdomain(
    app: Starlette, tenant: Tenant, other_tenant: Tenant
) -> None:
    transport = httpx.ASGITransport(app)
    own = AsyncClient(
        account="acme",
        host="localhost:8000",
        scheme="http",
        api_key=tenant.key,
        transport=transport,
    )
    foreign = AsyncClient(
        account="globex",
        host="localhost:8000",
        scheme="http",
        api_key=tenant.key,
        transport=transport,
    )
    async with own, foreign:
        created = await own.customers.create(name="Acme")
        with pytest.raises(AuthenticationError):
            await foreign.customers.get(created.idfulfilment_customer)

    assert own.base_url == "http://acme.localhost:8000/api/v1/"


def _fields(customer: Customer) -> dict[str, object]:
    return {name: getattr(customer, name) for name in customer.__struct_fields__}
