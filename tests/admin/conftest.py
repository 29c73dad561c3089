"""Fixtures of the back-office tests: staff users of the test account."""

from __future__ import annotations

from typing import Any

import pytest

from fulfilment.db import Connection, Database
from fulfilment.passwords import hash_password_sync
from fulfilment.staff import service as staff
from fulfilment.staff.schemas import User
from tests.factories import Tenant

from .helpers import PASSWORD


def make_user(database: Database, tenant: Tenant, username: str, **fields: Any) -> User:
    new = staff.NewUser(username=username, emailaddress=f"{username}@warehouse.example", **fields)
    password_hash = hash_password_sync(PASSWORD)

    async def create(connection: Connection) -> User:
        return await staff.create_user(connection, tenant.account, new.checked(), password_hash)

    return database.write_sync(create)


@pytest.fixture
def anna(database: Database, tenant: Tenant) -> User:
    """An administrator who reads English."""
    return make_user(
        database, tenant, "anna", firstname="Anna", lastname="Smit", language="en", admin=True
    )


@pytest.fixture
def piet(database: Database, tenant: Tenant) -> User:
    """A staff user (not an administrator) who reads Dutch."""
    return make_user(database, tenant, "piet", firstname="Piet", lastname="Bakker", language="nl")


# The portal's browser and its `fulfilment serve` server, for the back office's browser test.
from tests.portal.test_browser import browser, server  # noqa: E402, F401
