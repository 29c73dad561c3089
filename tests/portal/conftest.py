"""Fixtures of the portal tests: fulfilment customers that may log in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from msgspec.structs import replace
from starlette.testclient import TestClient

from fulfilment.app import create_app
from fulfilment.settings import Settings
from tests.factories import Tenant

from .helpers import PASSWORD


@pytest.fixture
def jansen(tenant: Tenant) -> dict[str, Any]:
    """A Dutch customer with a preferred warehouse, one allowed profile and a template."""
    return tenant.create_customer(
        name="Jansen Tuinmeubelen",
        can_login=True,
        username="Jansen",
        password=PASSWORD,
        emailaddress="info@jansen.example",
        language="nl",
        preferred_idwarehouse=tenant.warehouse,
        allowed_shipping_profiles=[tenant.profiles[1]],
        idtemplate=tenant.template,
    )


@pytest.fixture
def smith(tenant: Tenant) -> dict[str, Any]:
    """An English customer that left everything to the warehouse's defaults."""
    return tenant.create_customer(
        name="Smith & Daughters",
        can_login=True,
        username="smith",
        password=PASSWORD,
        language="en",
    )


@pytest.fixture
def app_with(settings: Settings) -> Iterator[Callable[..., TestClient]]:
    """Build apps on the test's database with some settings changed; closed at the end."""
    with ExitStack() as stack:

        def make(**changes: Any) -> TestClient:
            app = create_app(replace(settings, **changes))
            return stack.enter_context(TestClient(app, raise_server_exceptions=False))

        yield make
