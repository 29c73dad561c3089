"""Fixtures of the identity tests: every rule runs on both sites (a portal customer, a
back-office staff user) and both backends, with mails going to a real SMTP server."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from fulfilment.db import Connection, Database
from fulfilment.passwords import hash_password_sync
from fulfilment.settings import Settings
from fulfilment.staff import service as staff
from fulfilment.staff.schemas import User
from tests.admin.conftest import anna, piet  # noqa: F401
from tests.factories import Tenant
from tests.portal.conftest import jansen  # noqa: F401
from tests.servers import ENCRYPTION_KEY

from .helpers import PASSWORD, Site

PUBLIC_URL = "https://portal.example.com"


@pytest.fixture
def settings(database_url: str, smtp_port: int) -> Settings:
    return Settings(
        database_url=database_url,
        rate_limit="1000000/minute",
        smtp_url=f"smtp://127.0.0.1:{smtp_port}",
        mail_from="office@warehouse.example",
        public_url=PUBLIC_URL,
        encryption_key=ENCRYPTION_KEY,
    )


def _customer(tenant: Tenant) -> dict[str, Any]:
    return tenant.create_customer(
        name="Jansen Tuinmeubelen",
        can_login=True,
        username="jansen",
        password=PASSWORD,
        emailaddress="jansen@customer.example",
        language="en",
    )


@pytest.fixture(params=["portal", "admin"])
def site(
    request: pytest.FixtureRequest, client: TestClient, tenant: Tenant, database: Database
) -> Site:
    """One person who logs in, on one of the two sites."""
    if request.param == "portal":
        person_id = int(_customer(tenant)["idfulfilment_customer"])
        return Site("portal", client, tenant, database, person_id, "jansen@customer.example")
    new = staff.NewUser(username="jansen", emailaddress="jansen@warehouse.example", language="en")
    password_hash = hash_password_sync(PASSWORD)

    async def create(connection: Connection) -> User:
        return await staff.create_user(connection, tenant.account, new.checked(), password_hash)

    user = database.write_sync(create)
    return Site("admin", client, tenant, database, user.iduser, "jansen@warehouse.example")
